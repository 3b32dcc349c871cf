"""Start, drive and stop the test servers in servers/, and run kubectl against the fake.

Fixtures (import them into a test module, or list this module in
`pytest_plugins`):

    fake_apiserver        FakeApiServer over TLS (test_pki), namespace "default",
                          tokens ADMIN_TOKEN (everything) and WATCHER_TOKEN (least privilege)
    fake_apiserver_http   the same over plain HTTP, no authentication (like kubectl proxy)
    start_fake_apiserver  factory: start_fake_apiserver(tls=True, client_ca=None,
                          kube_version=None, tokens=None) -> FakeApiServer
    foreign_api           FakeApiServer over TLS with pod "some-pod", its certificate signed by
                          other_pki's CA (not the test CA)
    usage_server          UsageServer at 50 %, mode "ok"
    start_usage_server    factory: start_usage_server() -> UsageServer
    kubectl               kubectl(server, *args, token=ADMIN_TOKEN, check=True) -> CompletedProcess
"""
import http.client
import json
import os
import re
import select
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import pytest

from support import pki

SERVERS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "servers")
ADMIN_TOKEN = "admin-token"
WATCHER_TOKEN = "watcher-token"
# The RBAC Role the watcher needs (KUBERNETES.md, "Least privilege").
WATCHER_VERBS = ["get pods", "patch pods", "create events", "patch events"]
DEFAULT_TOKENS = {ADMIN_TOKEN: ["*"], WATCHER_TOKEN: WATCHER_VERBS}
KUBECTL = "/usr/bin/kubectl"


class Program:
    """A server program started on port 0; `ready` is the match of its READY line."""

    def __init__(self, args, ready_pattern, name, timeout=15):
        self.name = name
        self.log = tempfile.NamedTemporaryFile(prefix=name + "-", suffix=".stderr", delete=False)
        self.process = subprocess.Popen([sys.executable, *args], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=self.log)
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.process.stdout], [], [], left)[0]:
                self.fail("did not print READY in %ss" % timeout)
            chunk = os.read(self.process.stdout.fileno(), 4096)
            if not chunk:
                self.fail("exited before READY")
            line += chunk
        self.ready = re.fullmatch(ready_pattern, line.decode().strip())
        if not self.ready:
            self.fail("printed %r, not READY" % line)

    def fail(self, what):
        self.process.kill()
        self.process.wait()
        errors = self.stderr()
        self.stop()
        raise RuntimeError("%s %s; its stderr:\n%s" % (self.name, what, errors))

    def stderr(self):
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def stop(self):
        """terminate, wait, kill: the server never outlives its test."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()
        self.log.close()
        if os.path.exists(self.log.name):
            os.unlink(self.log.name)


def control(url, method="GET", body=None, timeout=10):
    """JSON request to a control endpoint; returns the parsed answer, raises on non-2xx."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as e:
        raise RuntimeError("%s %s: %d %s" % (method, url, e.code, e.read().decode())) from None


@dataclass
class Response:
    """An API answer: `body` is parsed JSON when it parses, else text."""
    status: int
    headers: http.client.HTTPMessage
    body: object
    raw: bytes


class FakeApiServer:
    """A running servers/fake_apiserver.py: control methods and a small API client."""

    def __init__(self, program, ca=None):
        self.program = program
        self.api_port = int(program.ready.group(1))
        self.control_port = int(program.ready.group(2))
        self.ca = ca  # path of the CA that signed the server certificate; None for HTTP
        self.tls = ca is not None
        self.url = "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.api_port)
        self.control_url = "http://127.0.0.1:%d/control" % self.control_port

    def stop(self):
        self.program.stop()

    # -- control ---------------------------------------------------------

    def state(self):
        return control(self.control_url + "/state")

    def add_namespace(self, name):
        return control(self.control_url + "/namespaces", "POST", {"name": name})

    def add_pod(self, name, namespace="default", labels=None, annotations=None, uid=None):
        """Create or replace a pod (and its namespace); returns the stored Pod."""
        body = {"namespace": namespace, "name": name, "labels": labels or {},
                "annotations": annotations or {}}
        if uid:
            body["uid"] = uid
        return control(self.control_url + "/pods", "POST", body)

    def pod(self, name, namespace="default"):
        """The stored Pod, or None."""
        for pod in self.state()["pods"]:
            if pod["metadata"]["name"] == name and pod["metadata"]["namespace"] == namespace:
                return pod
        return None

    def labels(self, name, namespace="default"):
        return self.pod(name, namespace)["metadata"].get("labels", {})

    def delete_pod(self, name, namespace="default"):
        return control("%s/pods/%s/%s" % (self.control_url, namespace, name), "DELETE")

    def events(self):
        return self.state()["events"]

    def clear_events(self):
        control(self.control_url + "/events", "DELETE")

    def set_tokens(self, tokens):
        """Replace the token table: {"tok": ["get pods", ...]} or {"tok": {"user", "allow"}}."""
        control(self.control_url + "/tokens", "POST", {"tokens": tokens})

    def add_faults(self, *faults):
        """Queue faults: dicts of method, path_regex, status, retry_after, body, count, delay, drop."""
        control(self.control_url + "/faults", "POST", list(faults))

    def faults(self):
        return control(self.control_url + "/faults")

    def clear_faults(self):
        control(self.control_url + "/faults", "DELETE")

    def requests(self, path_regex=None):
        """The request log, optionally only paths matching `path_regex`."""
        log = control(self.control_url + "/requests")
        return [r for r in log if path_regex is None or re.search(path_regex, r["path"])]

    def clear_requests(self):
        control(self.control_url + "/requests", "DELETE")

    # -- talking to the API port ------------------------------------------

    def ssl_context(self):
        return ssl.create_default_context(cafile=self.ca) if self.tls else None

    def request(self, method, path, body=None, token=ADMIN_TOKEN, content_type=None,
                headers=None, timeout=10):
        """One API request on a fresh connection; `body` (not bytes) is sent as JSON."""
        if self.tls:
            connection = http.client.HTTPSConnection("127.0.0.1", self.api_port, timeout=timeout,
                                                     context=self.ssl_context())
        else:
            connection = http.client.HTTPConnection("127.0.0.1", self.api_port, timeout=timeout)
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = "Bearer " + token
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        if data is not None:
            sent.setdefault("Content-Type", content_type or "application/json")
        try:
            connection.request(method, path, body=data, headers=sent)
            answer = connection.getresponse()
            raw = answer.read()
        finally:
            connection.close()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw.decode("utf-8", "replace")
        return Response(answer.status, answer.headers, parsed, raw)

    # -- files a client needs ------------------------------------------------

    def kubeconfig(self, folder, token=ADMIN_TOKEN, namespace="default"):
        """Write a kubeconfig (JSON is YAML) for this server; returns its path."""
        cluster = {"server": self.url}
        if self.tls:
            cluster["certificate-authority"] = self.ca
        user = {"token": token} if self.tls and token else {}
        config = {"apiVersion": "v1", "kind": "Config", "current-context": "fake",
                  "clusters": [{"name": "fake", "cluster": cluster}],
                  "users": [{"name": "test", "user": user}],
                  "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "test",
                                                            "namespace": namespace}}]}
        path = os.path.join(folder, "kubeconfig")
        with open(path, "w") as f:
            json.dump(config, f)
        return path

    def service_account(self, folder, token=WATCHER_TOKEN, namespace="default"):
        """Write token, ca.crt and namespace as a pod's service account folder has them."""
        os.makedirs(folder, exist_ok=True)
        for name, text in (("token", token), ("namespace", namespace)):
            with open(os.path.join(folder, name), "w") as f:
                f.write(text)
        if self.ca:
            shutil.copy(self.ca, os.path.join(folder, "ca.crt"))
        return folder

    def cluster_env(self):
        """The in-cluster variables a pod gets for this server."""
        return {"KUBERNETES_SERVICE_HOST": "127.0.0.1",
                "KUBERNETES_SERVICE_PORT": str(self.api_port)}


class UsageServer:
    """A running servers/usage_server.py."""

    def __init__(self, program):
        self.program = program
        self.port = int(program.ready.group(1))
        self.base = "http://127.0.0.1:%d" % self.port
        self.url = self.base + "/usage"

    def set(self, **changes):
        """POST /control with e.g. percent=80, mode="hang", wave={...}, delay=0.5."""
        return control(self.base + "/control", "POST", changes)

    def state(self):
        return control(self.base + "/control")

    def request_times(self):
        """When each /usage request arrived (time.time()), oldest first: the samples taken."""
        return control(self.base + "/control/requests")["times"]

    def stop(self):
        self.program.stop()


def start_fake_apiserver_program(pki=None, client_ca=None, kube_version=None, tokens=None):
    """Start fake_apiserver.py (TLS when `pki` is given) with the token table."""
    args = [os.path.join(SERVERS, "fake_apiserver.py"), "--port", "0", "--control-port", "0"]
    if pki is not None:
        args += ["--cert", pki["server"].cert, "--key", pki["server"].key]
    if client_ca:
        args += ["--client-ca", client_ca]
    if kube_version:
        args += ["--kube-version", kube_version]
    args += ["--tokens", json.dumps(DEFAULT_TOKENS if tokens is None else tokens)]
    program = Program(args, r"READY api=(\d+) control=(\d+)", "fake-apiserver")
    server = FakeApiServer(program, ca=pki["ca"].cert if pki else None)
    server.add_namespace("default")
    return server


def start_usage_server_program(port=0):
    return UsageServer(Program([os.path.join(SERVERS, "usage_server.py"), "--port", str(port)],
                               r"READY port=(\d+)", "usage-server"))


def _starter(program):
    """A fixture body: a function that starts `program(...)`, and the stop of all it started."""
    started = []

    def start(*args, **options):
        server = program(*args, **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def start_fake_apiserver(test_pki):
    def program(tls=True, client_ca=None, kube_version=None, tokens=None):
        return start_fake_apiserver_program(test_pki if tls else None, client_ca,
                                            kube_version, tokens)
    yield from _starter(program)


@pytest.fixture
def fake_apiserver(start_fake_apiserver):
    return start_fake_apiserver()


@pytest.fixture
def fake_apiserver_http(start_fake_apiserver):
    return start_fake_apiserver(tls=False)


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory):
    """A second CA, and a server certificate for 127.0.0.1 that it signed."""
    folder = str(tmp_path_factory.mktemp("other-pki"))
    ca = pki.make_ca(folder, "other-ca")
    return {"dir": folder, "ca": ca, "server": pki.make_cert(folder, "other-server", ca)}


@pytest.fixture
def foreign_api(other_pki):
    """A TLS fake with the pod "some-pod", whose certificate the test CA did not sign."""
    api = start_fake_apiserver_program(other_pki)
    api.add_pod("some-pod")
    yield api
    api.stop()


@pytest.fixture
def start_usage_server():
    yield from _starter(start_usage_server_program)


@pytest.fixture
def usage_server(start_usage_server):
    return start_usage_server()


def run_kubectl(server, folder, *args, token=ADMIN_TOKEN, namespace="default", check=True,
                timeout=60):
    """Run the real kubectl against `server` with a fresh kubeconfig and discovery cache."""
    os.makedirs(folder, exist_ok=True)
    config = server.kubeconfig(folder, token=token, namespace=namespace)
    cache = tempfile.mkdtemp(prefix="cache-", dir=folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBE")}
    env["HOME"] = folder  # nothing from ~/.kube leaks in, nothing is left there
    result = subprocess.run([KUBECTL, "--kubeconfig", config, "--cache-dir", cache,
                             "--request-timeout", "10s", *args],
                            env=env, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError("kubectl %s failed (%d): %s" % (" ".join(args), result.returncode,
                                                             result.stderr))
    return result


@pytest.fixture
def kubectl(tmp_path):
    """kubectl(server, *args, token=ADMIN_TOKEN, check=True) -> CompletedProcess."""
    if not os.access(KUBECTL, os.X_OK):
        pytest.fail("%s is not installed; .ci/run installs it" % KUBECTL)
    runs = iter(range(1000))

    def run(server, *args, **options):
        return run_kubectl(server, str(tmp_path / ("kubectl-%d" % next(runs))), *args, **options)

    return run

"""The scratch image, run the way a kubelet runs a pod.

The image's file system (exported from the podman image built from
Dockerfile.scratch) gets what a pod gets: /proc, the service account's
token, ca.crt and namespace, the in-cluster and downward-API variables, and
nothing else. The binary runs in it as PID 1, uid 65532, on a read-only root,
against the fake API server over TLS and a usage server on 127.0.0.1:6001
(the default port, since the pod is given no settings).
"""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import REPO
from support.servers import WATCHER_VERBS, start_usage_server_program

IMAGE = "localhost/network-watcher:test"
LABEL = "echo.soketi.app/accepts-new-connections"
SERVICE_ACCOUNT = "var/run/secrets/kubernetes.io/serviceaccount"

# Runs inside new mount and PID namespaces; the watcher ends up as PID 1.
POD_SCRIPT = """
set -e
root="$1"; accounts="$2"; shift 2
/bin/mount --bind "$root" "$root"
/bin/mount --bind "$accounts" "$root/%(sa)s"
/bin/mount -o remount,bind,ro "$root/%(sa)s"
/bin/mount -t proc proc "$root/proc"
/bin/mount -o remount,bind,ro "$root"
exec /usr/sbin/chroot --userspec=65532:65532 "$root" "$@"
""" % {"sa": SERVICE_ACCOUNT}


def wait_until(what, condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail("timed out after %ss waiting for %s" % (timeout, what))


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """The image's root file system and entrypoint."""
    binary = os.path.join(REPO, "out", "network-watcher")
    if not os.access(binary, os.X_OK):
        pytest.fail("%s is missing: scripts/build-static.sh builds it" % binary)
    root = str(tmp_path_factory.mktemp("image") / "root")
    os.mkdir(root)
    if shutil.which("podman") is None:
        # The same layout the Dockerfile's final stage makes, where podman cannot be had.
        shutil.copy(binary, os.path.join(root, "network-watcher"))
        return root, ["/network-watcher", "network:watch"]
    subprocess.run(["podman", "build", "-q", "-f", "Dockerfile.scratch", "--build-arg", "BINARY_FROM=local",
                    "-t", IMAGE, "."], cwd=REPO, check=True, timeout=300, stdout=subprocess.DEVNULL)
    config = json.loads(subprocess.run(["podman", "image", "inspect", IMAGE], check=True, timeout=60,
                                       capture_output=True).stdout)[0]["Config"]
    assert config["User"] == "65532:65532"
    container = subprocess.run(["podman", "create", IMAGE], check=True, timeout=60,
                               capture_output=True, text=True).stdout.strip()
    try:
        exported = subprocess.run(["podman", "export", container], check=True, timeout=60,
                                  capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", root], input=exported, check=True, timeout=60)
    finally:
        subprocess.run(["podman", "rm", container], timeout=60, capture_output=True)
    return root, config["Entrypoint"] + (config.get("Cmd") or [])


SIZE_BUDGET = 11_000_000  # bytes, stripped, OpenSSL inside (issue 4)


def test_the_static_binary_fits_its_budget():
    binary = os.path.join(REPO, "out", "network-watcher")
    size = os.path.getsize(binary)
    assert size <= SIZE_BUDGET, "%s is %d bytes, over the %d byte budget" % (binary, size, SIZE_BUDGET)


def test_the_image_holds_the_binary_alone(image):
    root, entrypoint = image
    assert sorted(os.listdir(root)) == ["network-watcher"]
    assert entrypoint == ["/network-watcher", "network:watch"]
    kind = subprocess.run(["file", "-b", os.path.join(root, "network-watcher")],
                          capture_output=True, text=True, timeout=30).stdout
    assert "statically linked" in kind


class Pod:
    """The image's root prepared as a kubelet would, and the watcher running in it."""

    def __init__(self, image, accounts, environment):
        root, entrypoint = image
        for folder in ("proc", SERVICE_ACCOUNT):
            os.makedirs(os.path.join(root, folder), exist_ok=True)
        self.log = open(os.path.join(accounts, "..", "watcher.log"), "w+")
        self.process = subprocess.Popen(
            ["unshare", "--mount", "--pid", "--fork", "--propagation", "private",
             "/bin/sh", "-c", POD_SCRIPT, "pod", root, accounts, *entrypoint],
            env=environment, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            self.pid = wait_until("the watcher to start as PID 1 of its namespace", self._child)
        except BaseException:
            self.stop()
            raise

    def _child(self):
        try:
            with open("/proc/%d/task/%d/children" % (self.process.pid, self.process.pid)) as f:
                children = f.read().split()
        except FileNotFoundError:
            return None
        if not children:
            return None
        pid = int(children[0])
        try:
            return pid if os.readlink("/proc/%d/exe" % pid).endswith("network-watcher") else None
        except OSError:
            return None

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.log.close()


def write_atomically(path, text):
    """As the kubelet updates projected volumes: a new file renamed over the old."""
    with open(path + ".new", "w") as f:
        f.write(text)
    os.chmod(path + ".new", 0o644)
    os.rename(path + ".new", path)


def test_pod_faithful_run(image, start_fake_apiserver, tmp_path):
    api = start_fake_apiserver(tokens={"first-token": WATCHER_VERBS})
    api.add_namespace("echo")
    pod = api.add_pod("echo-0", namespace="echo", labels={"app": "echo"})
    try:
        usage = start_usage_server_program(port=6001)
    except RuntimeError as error:
        pytest.fail("the usage server needs 127.0.0.1:6001, the watcher's default: %s" % error)
    usage.set(percent=40)
    accounts = str(tmp_path / "serviceaccount")
    api.service_account(accounts, token="first-token", namespace="echo")
    for name in os.listdir(accounts):
        os.chmod(os.path.join(accounts, name), 0o644)
    os.chmod(accounts, 0o755)
    environment = dict(api.cluster_env(), POD_NAME="echo-0", POD_NAMESPACE="echo")

    running = None
    try:
        running = Pod(image, accounts, environment)
        with open("/proc/%d/status" % running.pid) as f:
            assert any(line.split()[:2] == ["Uid:", "65532"] for line in f), "not running as uid 65532"
        with open("/proc/%d/status" % running.pid) as f:
            namespace_pid = [line.split()[-1] for line in f if line.startswith("NSpid:")][0]
        assert namespace_pid == "1", "the watcher should be PID 1 in its namespace"

        labels = lambda: api.labels("echo-0", namespace="echo").get(LABEL)
        wait_until("the label to be ensured as yes", lambda: labels() == "yes")

        usage.set(percent=90)
        wait_until("the label to turn no above 75%", lambda: labels() == "no")
        reasons = lambda: [e["reason"] for e in api.events()]
        wait_until("an OverThreshold Event", lambda: "OverThreshold" in reasons())

        # The kubelet rotates the token: the old one stops working, the file changes.
        api.clear_requests()
        api.set_tokens({"second-token": WATCHER_VERBS})
        write_atomically(os.path.join(accounts, "token"), "second-token")
        usage.set(percent=30)
        wait_until("the label to turn yes with the rotated token", lambda: labels() == "yes")
        wait_until("a BelowThreshold Event", lambda: "BelowThreshold" in reasons())
        sent = [(r["status"], r["headers"].get("authorization")) for r in api.requests(r"/pods/echo-0")]
        assert (401, "Bearer first-token") in sent
        assert any(status == 200 and auth == "Bearer second-token" for status, auth in sent)

        os.kill(running.pid, signal.SIGTERM)
        started = time.monotonic()
        running.process.wait(5)
        elapsed = time.monotonic() - started
        assert elapsed < 2.0, "the pod took %.2fs to stop" % elapsed
        assert running.process.returncode == 0, running.output()
        assert labels() == "no"
        assert "Terminating" in reasons()
        event = [e for e in api.events() if e["reason"] == "Terminating"][0]
        assert event["involvedObject"]["uid"] == pod["metadata"]["uid"]
    except BaseException:
        if running:
            print("the watcher's output:\n" + running.output())
        raise
    finally:
        if running:
            running.stop()
        usage.stop()

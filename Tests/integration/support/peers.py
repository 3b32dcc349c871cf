"""The peers the client is tested against, and a runner for the `httplite` front end.

Each peer is a real process started by a fixture and stopped at its teardown:
nginx (Debian's package), `openssl s_server`, and servers/raw_server.py, a
scripted raw-byte server. Test modules import the fixtures they use:

    from support.peers import raw_server, run_client  # noqa: F401
"""
import base64
import json
import os
import random
import resource
import selectors
import signal
import socket
import string
import subprocess
import sys
import time
from dataclasses import dataclass, field

import pytest

from support import pki

HERE = os.path.dirname(os.path.abspath(__file__))
RAW_SERVER = os.path.join(HERE, "..", "servers", "raw_server.py")
NGINX = "/usr/sbin/nginx"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
CLIENT_TIMEOUT = 30.0


# ---------------------------------------------------------------- processes

def free_port(host="127.0.0.1"):
    """A TCP port that nothing listened on a moment ago."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def stop_process(proc):
    """SIGTERM, then SIGKILL if it has not exited within STOP_TIMEOUT."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT)


def read_file(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def wait_for_port(host, port, proc, what, log_path=None):
    """Returns once `host:port` accepts a connection; fails the test if `proc` dies or time runs out."""
    deadline = time.monotonic() + START_TIMEOUT
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("%s exited with %s: %s" % (what, proc.returncode, read_file(log_path)))
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail("%s did not listen on %s port %d within %ss: %s"
                % (what, host, port, START_TIMEOUT, read_file(log_path)))


# ---------------------------------------------------------------- the client

@dataclass
class ClientResult:
    """What one run of `httplite` printed: `responses` (dicts), `error` (dict or None)."""
    argv: list
    returncode: int
    stdout: str
    stderr: str
    elapsed: float
    responses: list = field(default_factory=list)
    error: dict = None

    def describe(self):
        out = self.stdout if len(self.stdout) < 3000 else self.stdout[:3000] + "...(cut)"
        return "argv=%s\nexit=%s elapsed=%.2fs\nstdout=%s\nstderr=%s" % (
            self.argv[1:], self.returncode, self.elapsed, out, self.stderr[-2000:])

    def expect_ok(self, count=1):
        """Asserts a clean exit with `count` responses and returns them."""
        assert self.returncode == 0 and self.error is None, "expected success:\n" + self.describe()
        assert len(self.responses) == count, "expected %d responses:\n%s" % (count, self.describe())
        return self.responses

    def expect_error(self, code):
        """Asserts exit 1 with `{"error": code}` last and returns the error's detail."""
        assert self.error is not None, "expected error %s:\n%s" % (code, self.describe())
        assert self.error.get("error") == code, "expected error %s:\n%s" % (code, self.describe())
        assert self.returncode == 1, "an error must exit 1:\n" + self.describe()
        return self.error.get("detail", "")


def run_client(binary, *args, timeout=CLIENT_TIMEOUT, wrapper=(), stack_limit=None, env=None):
    """Runs `httplite ARGS...` (under `wrapper`, e.g. an unshare command) and parses its JSON lines.

    `env` adds to (not replaces) this process's environment.
    """
    argv = [*wrapper, binary, *[str(a) for a in args]]

    def raise_stack_limit():
        # The kernel allows argv up to a quarter of the stack limit; the write
        # timeout test passes megabytes of headers.
        resource.setrlimit(resource.RLIMIT_STACK, (stack_limit, resource.RLIM_INFINITY))

    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, timeout=timeout,
                          env={**os.environ, **env} if env else None,
                          preexec_fn=raise_stack_limit if stack_limit else None)
    elapsed = time.monotonic() - start
    stdout = proc.stdout.decode("utf-8", "replace")
    result = ClientResult(argv, proc.returncode, stdout,
                          proc.stderr.decode("utf-8", "replace"), elapsed)
    for line in stdout.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            pytest.fail("httplite printed a line that is not JSON: %r\n%s"
                        % (line[:300], result.describe()))
        if "error" in value:
            assert result.error is None, "two error lines:\n" + result.describe()
            result.error = value
        else:
            assert result.error is None, "a response after the error:\n" + result.describe()
            result.responses.append(value)
    return result


def header_values(response, name):
    """Every value of header `name` (any case) in a client response, in order."""
    return [v for n, v in response["headers"] if n.lower() == name.lower()]


# ---------------------------------------------------------------- raw server

def step(response=b"", then="keep", read=True, **options):
    """One step of a raw-server script: send `response` (bytes), then `then`."""
    result = {"response_b64": base64.b64encode(response).decode(), "then": then, "read": read}
    result.update(options)
    return result


@dataclass
class Connection:
    """One connection the raw server accepted: the requests read on it and how it ended."""
    requests: list
    end: str
    peer: list


class RawServer:
    """A running servers/raw_server.py: `port`, `script(steps)`, `log()`."""

    def __init__(self, folder, host="127.0.0.1", port=0, tls=None, rcvbuf=None):
        self.host = host
        self.stderr_path = os.path.join(folder, "raw-server-%d.err" % id(self))
        argv = [sys.executable, RAW_SERVER, "--host", host, "--port", str(port)]
        if tls is not None:
            argv += ["--tls-cert", tls.cert, "--tls-key", tls.key]
        if rcvbuf:
            argv += ["--rcvbuf", str(rcvbuf)]
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err)
        first = self._first_line()
        self.port, self.control_port = first["port"], first["control_port"]

    def _first_line(self):
        selector = selectors.DefaultSelector()
        selector.register(self.proc.stdout, selectors.EVENT_READ)
        ready = selector.select(START_TIMEOUT)
        selector.close()
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            stop_process(self.proc)
            pytest.fail("raw server did not start: %s" % read_file(self.stderr_path))
        return json.loads(line)

    @property
    def authority(self):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "%s:%d" % (host, self.port)

    def url(self, path="/", scheme="http"):
        return "%s://%s%s" % (scheme, self.authority, path)

    def _control(self, method, path, body=None):
        with socket.create_connection(("127.0.0.1", self.control_port), timeout=10) as sock:
            data = json.dumps(body).encode() if body is not None else b""
            sock.sendall(b"%s %s HTTP/1.0\r\nContent-Length: %d\r\n\r\n%s"
                         % (method.encode(), path.encode(), len(data), data))
            reply = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
        head, _, payload = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.0 200"), "raw server control %s %s: %r" % (method, path, reply)
        return json.loads(payload)

    def script(self, steps):
        """Replaces the script with `steps` and clears the log."""
        self._control("PUT", "/script", list(steps))

    def log(self):
        """(connections, steps_left, unscripted) as the server saw them so far."""
        snapshot = self._control("GET", "/log")
        connections = [Connection([base64.b64decode(r) for r in c["requests"]], c["end"], c["peer"])
                       for c in snapshot["connections"]]
        return connections, snapshot["steps_left"], snapshot["unscripted"]

    def requests(self):
        """Every request read, on any connection, in order."""
        return [r for c in self.log()[0] for r in c.requests]

    def stop(self):
        stop_process(self.proc)
        if self.proc.stdout:
            self.proc.stdout.close()


@pytest.fixture
def raw_server(tmp_path):
    """A factory: `raw_server(host=, tls=KeyPair, rcvbuf=, port=)` starts one; all stop at teardown."""
    servers = []

    def start(**options):
        server = RawServer(str(tmp_path), **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# ---------------------------------------------------------------- certificates

@pytest.fixture(scope="session")
def tls_pki(test_pki, tmp_path_factory):
    """The shared test CA's certificates plus the odd ones the TLS tests need, all made with openssl."""
    folder = str(tmp_path_factory.mktemp("tls-pki"))
    ca = test_pki["ca"]
    return {
        "dir": folder,
        "ca": ca,
        "server": test_pki["server"],                    # IP:127.0.0.1, DNS:localhost
        "other_ca": pki.make_ca(folder, "other-ca"),
        "expired": pki.make_cert(folder, "expired", ca, expired=True),
        "self_signed": pki.make_cert(folder, "self-signed", None),
        "other_name": pki.make_cert(folder, "other-name", ca, sans=("DNS:other.example",)),
        "ip_only": pki.make_cert(folder, "ip-only", ca, sans=("IP:127.0.0.1",)),
        "dns_localhost": pki.make_cert(folder, "dns-localhost", ca, sans=("DNS:localhost",)),
        "dns_ip_text": pki.make_cert(folder, "dns-ip-text", ca, sans=("DNS:127.0.0.1",)),
        "ipv6": pki.make_cert(folder, "ipv6", ca, sans=("IP:::1",)),
        "all_loopback": pki.make_cert(folder, "all-loopback", ca,
                                      sans=("IP:127.0.0.1", "IP:::1", "DNS:localhost")),
        "client": pki.make_cert(folder, "client", ca, sans=None, client=True),
    }


# ---------------------------------------------------------------- openssl s_server

class SServer:
    """A running `openssl s_server -www`; `output()` is what it printed (with -debug: SNI)."""

    def __init__(self, folder, cert, key, args=(), host="127.0.0.1", env=None):
        self.host = host
        self.out_path = os.path.join(folder, "s_server-%d.out" % id(self))
        accept = "[%s]:0" % host if ":" in host else "%s:0" % host
        self.argv = ["openssl", "s_server", "-accept", accept, "-cert", cert, "-key", key,
                     "-www", *args]
        with open(self.out_path, "wb") as out:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         env={**os.environ, **env} if env else None)
        deadline = time.monotonic() + START_TIMEOUT
        self.port = None
        while self.port is None:
            for line in self.output().splitlines():
                if line.startswith("ACCEPT "):
                    self.port = int(line.rsplit(":", 1)[1])
            if self.port is None:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    stop_process(self.proc)
                    pytest.fail("s_server did not start: %s\n%s" % (self.argv, self.output()))
                time.sleep(0.05)

    def url(self, host=None, path="/"):
        host = host or self.host
        host = "[%s]" % host if ":" in host else host
        return "https://%s:%d%s" % (host, self.port, path)

    def output(self):
        return read_file(self.out_path)

    def stop(self):
        stop_process(self.proc)


@pytest.fixture
def s_server(tmp_path):
    """A factory: `s_server(keypair, *extra_args, host=..., env=...)` starts one; all stop at teardown.

    `env` adds to this process's environment (e.g. an OPENSSL_CONF that lets it serve weak keys)."""
    servers = []

    def start(keypair, *args, host="127.0.0.1", env=None):
        server = SServer(str(tmp_path), keypair.cert, keypair.key, args, host=host, env=env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def s_client_handshake(port, *args):
    """(ok, output) of `openssl s_client` to 127.0.0.1:port: used to prove what a server speaks."""
    proc = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, *args],
                          input=b"", capture_output=True, timeout=20)
    output = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    return proc.returncode == 0 and "Cipher is (NONE)" not in output, output


# ---------------------------------------------------------------- nginx

NGINX_CONF = """
user root;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 64; }}
http {{
    log_format conn '$connection $connection_requests $request_method $request_uri $status $http_host';
    access_log {dir}/access.log conn;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    types {{ text/html html; text/plain txt; }}
    default_type application/octet-stream;
    keepalive_timeout 60s;
    keepalive_requests 1000;
    server {{
        listen 127.0.0.1:{port};
        listen [::1]:{port};
        listen 127.0.0.1:{tls_port} ssl;
        listen [::1]:{tls_port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {dir}/www;
        location /echo {{
            return 200 "method=$request_method host=$http_host cl=$content_length x=$http_x_test uri=$request_uri\\n";
        }}
        location /ssi/ {{
            ssi on;
        }}
        location /close/ {{
            keepalive_timeout 0;
            alias {dir}/www/;
        }}
    }}
}}
"""

SSI_PAGE = "ssi start\n<!--# echo var=\"request_method\" --> <!--# echo var=\"request_uri\" -->\n"


def _ascii_bytes(size, seed):
    rng = random.Random(seed)
    alphabet = (string.ascii_letters + string.digits + "\n").encode()
    return bytes(rng.choices(alphabet, k=size))


class Nginx:
    """A running nginx with a plain port, a TLS port (127.0.0.1 and ::1 for both) and known files."""

    def __init__(self, folder, keypair):
        self.dir = folder
        self.port, self.tls_port = free_port(), free_port()
        for sub in ("www/ssi", "tmp"):
            os.makedirs(os.path.join(folder, sub), exist_ok=True)
        self.files = {
            "/index.html": b"hello from nginx\n",
            "/big.txt": _ascii_bytes(3 * 1024 * 1024, 1),
            "/huge.txt": _ascii_bytes(5 * 1024 * 1024, 2),
        }
        # SSI output has no length known in advance, so nginx sends it chunked.
        self.files["/ssi/page.html"] = SSI_PAGE.encode() + _ascii_bytes(200 * 1024, 3)
        for path, data in self.files.items():
            with open(os.path.join(folder, "www", path.lstrip("/")), "wb") as f:
                f.write(data)
        conf = os.path.join(folder, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=folder, port=self.port, tls_port=self.tls_port,
                                      cert=keypair.cert, key=keypair.key))
        self.error_log = os.path.join(folder, "error.log")
        self.access_log = os.path.join(folder, "access.log")
        with open(os.path.join(folder, "stderr.log"), "wb") as err:
            self.proc = subprocess.Popen([NGINX, "-p", folder, "-c", conf, "-g", "daemon off;"],
                                         stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        for port in (self.port, self.tls_port):
            wait_for_port("127.0.0.1", port, self.proc, "nginx", self.error_log)

    def ssi_body(self, uri):
        """What nginx makes of /ssi/page.html for a GET of `uri`."""
        page = self.files["/ssi/page.html"]
        return b"ssi start\nGET " + uri.encode() + b"\n" + page[len(SSI_PAGE):]

    def url(self, path="/", tls=False, host="127.0.0.1"):
        host = "[%s]" % host if ":" in host else host
        return "%s://%s:%d%s" % ("https" if tls else "http", host,
                                 self.tls_port if tls else self.port, path)

    def log_mark(self):
        """A position in the access log; `log_since(mark)` returns the entries written after it."""
        return os.path.getsize(self.access_log) if os.path.exists(self.access_log) else 0

    def log_since(self, mark):
        """Access log entries after `mark`: dicts with connection, requests, method, uri, status, host."""
        with open(self.access_log, "rb") as f:
            f.seek(mark)
            lines = f.read().decode().splitlines()
        keys = ("connection", "requests", "method", "uri", "status", "host")
        return [dict(zip(keys, line.split(" "))) for line in lines if line]

    def stop(self):
        stop_process(self.proc)


@pytest.fixture(scope="module")
def nginx(tls_pki, tmp_path_factory):
    """nginx from Debian's package, serving known files over HTTP and HTTPS (cert from the test CA)."""
    if not os.access(NGINX, os.X_OK):
        pytest.fail("%s is not installed; .ci/run installs nginx-light" % NGINX)
    server = Nginx(str(tmp_path_factory.mktemp("nginx")), tls_pki["all_loopback"])
    yield server
    server.stop()

"""A fake Kubernetes API server: pods, events and namespaces in core/v1, enough for
the watcher and for the real kubectl's get, label and patch.

    python3 fake_apiserver.py --port 0 --control-port 0 [--cert F --key F]
                              [--client-ca F] [--tokens JSON] [--kube-version 1.32.0]

Prints `READY api=<port> control=<port>` once both listen on 127.0.0.1. With
--cert the API port speaks TLS and wants a bearer token (or a client
certificate signed by --client-ca); without it, it is plain HTTP with no
authentication, like `kubectl proxy`. The control port is plain HTTP with
JSON bodies; see ControlHandler for its routes.
"""
import argparse
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

# Siblings are imported by file name, also when loaded as servers.fake_apiserver.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kube_objects as k  # noqa: E402
from apiserver_state import State  # noqa: E402
from kube_objects import ApiError  # noqa: E402

RESOURCES = [
    {"name": "events", "singularName": "event", "namespaced": True, "kind": "Event",
     "verbs": ["create", "get", "list", "patch"], "shortNames": ["ev"]},
    {"name": "namespaces", "singularName": "namespace", "namespaced": False,
     "kind": "Namespace", "verbs": ["get", "list"], "shortNames": ["ns"]},
    {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod",
     "verbs": ["get", "list", "patch"], "shortNames": ["po"], "categories": ["all"]},
]
PUBLIC_PATHS = ("/version", "/healthz", "/livez", "/readyz")


def read_body(handler):
    """The request body, from Content-Length or chunked transfer coding."""
    if "chunked" in handler.headers.get("Transfer-Encoding", "").lower():
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def send(handler, code, body, headers=()):
    """Write one response; `body` is JSON-encoded unless it is already bytes."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    handler.send_response(code)
    if not any(name.lower() == "content-type" for name, _ in headers):
        handler.send_header("Content-Type", "application/json")
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class ApiHandler(BaseHTTPRequestHandler):
    """The API port. Every request is logged, then may meet a fault, then is served."""

    protocol_version = "HTTP/1.1"
    server_version = "fake-apiserver"
    timeout = 120  # idle keep-alive connections are closed after this

    def setup(self):
        context = self.server.ssl_context
        if context is not None:
            # Handshake here, in the connection's thread, so a stalled or
            # refusing client cannot hold up accept().
            self.request.settimeout(10)
            try:
                self.request = context.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError) as e:
                with self.server.state.lock:
                    self.server.state.tls_failures += 1
                if self.server.verbose:
                    print("TLS handshake failed: %s" % e, file=sys.stderr)
                raise
        super().setup()

    def finish(self):
        try:
            super().finish()
        finally:
            if self.server.ssl_context is not None:
                self.request.close()

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)

    def do_GET(self):
        self.serve()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def serve(self):
        state = self.server.state
        raw = read_body(self)
        parts = urlsplit(self.path)
        path, query = parts.path, dict(parse_qsl(parts.query, keep_blank_values=True))
        entry = {"method": self.command, "path": path, "query": query,
                 "headers": {name.lower(): value for name, value in self.headers.items()},
                 "body": _parse_logged(raw), "time": time.time(), "status": None}
        with state.lock:
            state.requests.append(entry)
        fault = state.take_fault(self.command, path)
        if fault and self.inject(fault, entry):
            return
        try:
            code, body, warnings = self.route(path, query, raw)
            headers = [("Warning", '299 - "%s"' % w.replace('"', '\\"')) for w in warnings]
        except ApiError as e:
            code, body, headers = e.status["code"], e.status, list(e.headers.items())
        if isinstance(body, bytes):
            headers.append(("Content-Type", "text/plain; charset=utf-8"))
        headers += [("Audit-Id", str(uuid.uuid4())), ("Cache-Control", "no-cache, private")]
        self.mark(entry, status=code)
        send(self, code, body, headers)

    def mark(self, entry, **fields):
        """Fill in a request log entry; the control port may be reading the log."""
        with self.server.state.lock:
            entry.update(fields)

    def inject(self, fault, entry):
        """Carry out a fault; True when the request has been answered (or dropped)."""
        self.mark(entry, fault=fault)
        if fault.get("delay"):
            time.sleep(float(fault["delay"]))
        if fault.get("drop"):
            self.mark(entry, status="dropped")
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return True
        if not fault.get("status"):
            return False
        code = int(fault["status"])
        headers = [("Audit-Id", str(uuid.uuid4()))]
        details = None
        if fault.get("retry_after") is not None:
            headers.append(("Retry-After", str(fault["retry_after"])))
            details = {"retryAfterSeconds": int(fault["retry_after"])}
        body = fault.get("body")
        if body is None:
            body = k.status(code, details=details)
        elif isinstance(body, str):
            body = body.encode()
            headers.append(("Content-Type", "text/plain; charset=utf-8"))
        self.mark(entry, status=code)
        send(self, code, body, headers)
        return True

    # -- authentication and authorization -----------------------------------

    def user(self, namespace):
        """(user name, allowed set); raises 401. Plain HTTP has no authentication."""
        if self.server.ssl_context is None:
            return "system:admin", {"*"}
        cert_name = None
        peer = self.connection.getpeercert() if self.server.client_ca else None
        if peer:
            subject = dict(item[0] for item in peer.get("subject", ()))
            cert_name = subject.get("commonName")
        header = self.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else None
        user, allowed = self.server.state.authenticate(token, cert_name)
        if user is None:
            raise k.unauthorized()
        return user or "system:serviceaccount:%s:test" % (namespace or "default"), allowed

    def authorize(self, verb, resource, namespace, name=None):
        user, allowed = self.user(namespace)
        if not {"*", "%s %s" % (verb, resource), "* %s" % resource} & allowed:
            raise k.forbidden(user, verb, resource, namespace, name)

    # -- routes ---------------------------------------------------------------

    def route(self, path, query, raw):
        """(code, body, warnings) for an API request; raises ApiError."""
        path = path.rstrip("/") or "/"
        method = self.command
        if path in PUBLIC_PATHS:
            if method != "GET":
                raise k.method_not_allowed()
            if path == "/version":
                return 200, self.server.version_info, []
            return 200, b"ok", []
        if path in ("/api", "/apis", "/api/v1"):
            self.user(None)
            return 200, self.discovery(path), []
        match = re.fullmatch(r"/api/v1(?:/namespaces/([^/]+))?/(pods|events|namespaces)(?:/([^/]+))?",
                             path)
        if not match:
            self.user(None)
            raise k.no_such_path()
        namespace, resource, name = match.groups()
        if resource == "namespaces" and namespace is not None:
            self.user(None)
            raise k.no_such_path()
        if resource == "namespaces" and name:
            namespace = name  # RBAC checks a namespace GET in the namespace itself
        state = self.server.state
        if name is None:
            verb = {"GET": "list", "POST": "create"}.get(method, method.lower())
            if query.get("watch") in ("true", "1") and method == "GET":
                verb = "watch"
            self.authorize(verb, resource, namespace)
            if verb == "list":
                found = state.list(resource, namespace, query)
                if resource == "events" and k.wants_table(self.headers.get("Accept")):
                    return 200, k.event_table(found, query.get("includeObject")), []
                return 200, found, []
            if verb == "create" and resource == "events" and namespace:
                event, warnings = state.create_event(namespace, self.headers.get("Content-Type"),
                                                     raw, query)
                return 201, event, warnings
            raise k.method_not_allowed()
        verb = {"GET": "get", "PATCH": "patch", "PUT": "update", "POST": "create"}.get(
            method, method.lower())
        self.authorize(verb, resource, namespace, name)
        if verb == "get":
            return 200, state.get(resource, namespace, name), []
        if verb == "patch" and resource in ("pods", "events"):
            patch = state.patch_pod if resource == "pods" else state.patch_event
            patched, warnings = patch(namespace, name, self.headers.get("Content-Type"), raw, query)
            return 200, patched, warnings
        raise k.method_not_allowed()

    def discovery(self, path):
        if path == "/api":
            host, port = self.server.server_address[:2]
            return {"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                                    "serverAddress": "%s:%d" % (host, port)}]}
        if path == "/apis":
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": []}
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1",
                "resources": RESOURCES}


def _parse_logged(raw):
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


class ControlHandler(BaseHTTPRequestHandler):
    """Plain-HTTP control routes, JSON in and out:

    GET    /control/state                  everything: pods, events, namespaces, tokens, faults
    POST   /control/namespaces             {"name"}
    POST   /control/pods                   {"namespace", "name", "labels"?, "annotations"?, "uid"?}
    GET    /control/pods/NS/NAME           one pod (404 if missing)
    DELETE /control/pods/NS/NAME
    POST   /control/tokens                 {"tokens": {"tok": ["get pods", ...]}} replaces the table
    GET    /control/faults                 the faults not used up yet
    POST   /control/faults                 [{method, path_regex, status, retry_after, body,
                                             count, delay, drop}, ...] appended in order
    DELETE /control/faults
    GET    /control/requests               the request log; DELETE clears it
    DELETE /control/events
    """

    protocol_version = "HTTP/1.1"
    server_version = "fake-apiserver-control"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        self.serve()

    do_POST = do_DELETE = do_GET

    def serve(self):
        raw = read_body(self)
        try:
            body = json.loads(raw) if raw else None
            code, answer = self.route(urlsplit(self.path).path.rstrip("/"), body)
        except (ValueError, KeyError, TypeError, re.error) as e:
            code, answer = 400, {"error": "%s: %s" % (type(e).__name__, e)}
        send(self, code, answer)

    def route(self, path, body):
        state, method = self.server.state, self.command
        match = re.fullmatch(r"/control/pods/([^/]+)/([^/]+)", path)
        if match and method == "GET":
            pod = state.pod(*match.groups())
            return (200, pod) if pod else (404, {"error": "no such pod"})
        if match and method == "DELETE":
            return 200, {"deleted": state.delete_pod(*match.groups())}
        routes = {
            ("GET", "/control/state"): lambda: state.snapshot(),
            ("POST", "/control/namespaces"): lambda: state.add_namespace(body["name"]),
            ("POST", "/control/pods"): lambda: state.put_pod(
                body.get("namespace", "default"), body["name"], body.get("labels"),
                body.get("annotations"), body.get("uid")),
            ("POST", "/control/tokens"): lambda: state.set_tokens(body["tokens"]),
            ("GET", "/control/faults"): lambda: state.snapshot()["faults"],
            ("POST", "/control/faults"): lambda: state.add_faults(
                body["faults"] if isinstance(body, dict) else body),
            ("DELETE", "/control/faults"): lambda: state.clear_faults(),
            ("GET", "/control/requests"): lambda: self._requests(),
            ("DELETE", "/control/requests"): lambda: self._clear_requests(),
            ("DELETE", "/control/events"): lambda: state.clear_events(),
        }
        action = routes.get((method, path))
        if action is None:
            return 404, {"error": "no control route %s %s" % (method, path)}
        result = action()
        return 200, result if result is not None else {"ok": True}

    def _requests(self):
        with self.server.state.lock:
            return [dict(entry) for entry in self.server.state.requests]

    def _clear_requests(self):
        with self.server.state.lock:
            self.server.state.requests = []


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Failed handshakes and dropped clients are expected in tests; they are
        # counted in the state, so a traceback per connection is only noise.
        if self.verbose:
            super().handle_error(request, client_address)


def make_servers(args):
    state = State()
    if args.tokens:
        state.set_tokens(json.loads(args.tokens))
    api = ApiServer(("127.0.0.1", args.port), ApiHandler)
    api.state, api.verbose, api.client_ca = state, args.verbose, args.client_ca
    api.ssl_context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        context.set_alpn_protocols(["http/1.1"])
        if args.client_ca:
            context.load_verify_locations(args.client_ca)
            context.verify_mode = ssl.CERT_OPTIONAL
        api.ssl_context = context
    major, minor = args.kube_version.split(".")[:2]
    api.version_info = {
        "major": major, "minor": minor, "gitVersion": "v" + args.kube_version,
        "gitCommit": "0" * 40, "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.23.0", "compiler": "gc", "platform": "linux/amd64"}
    control = ThreadingHTTPServer(("127.0.0.1", args.control_port), ControlHandler)
    control.daemon_threads = True
    control.state = state
    return api, control


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--control-port", type=int, default=0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--client-ca")
    parser.add_argument("--tokens", help='initial token table, e.g. {"tok": ["get pods"]}')
    parser.add_argument("--kube-version", default="1.32.0")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if bool(args.cert) != bool(args.key):
        parser.error("--cert and --key go together")
    api, control = make_servers(args)
    threading.Thread(target=control.serve_forever, daemon=True).start()
    print("READY api=%d control=%d" % (api.server_address[1], control.server_address[1]),
          flush=True)
    try:
        api.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

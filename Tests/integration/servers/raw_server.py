#!/usr/bin/env python3
"""A scripted raw-byte HTTP server for the client's parser and connection tests.

It answers each request it receives, on any connection, with the next step of a
script, byte for byte as written, so a test can send what no real server would:
responses cut at chosen points, dripped slowly, malformed, or never sent.

    raw_server.py [--host 127.0.0.1] [--port 0] [--tls-cert C --tls-key K]
                  [--rcvbuf BYTES] [--hang-limit SECONDS]

On start it prints one JSON line, {"port": P, "control_port": C}, then serves
until SIGTERM. The control endpoint is plain HTTP on 127.0.0.1:C:

    PUT  /script   body: a JSON list of steps; replaces the script, clears the log
    GET  /log      {"connections": [...], "steps_left": N, "unscripted": N}

A step (every field optional):

    read         false: read no more of the request (over plain TCP not a byte;
                 over TLS at most what one recv returned), only carry out
                 `then`: for "accepts and never reads" and for write timeouts
    response     text sent as latin-1 bytes, or
    response_b64 the bytes, base64
    split_at     indices at which the response is cut into separate writes
    piece        size of the writes (1 = one byte at a time)
    delay        seconds slept between two writes
    then         "keep" (default: read the next request on this connection),
                 "close" (close at once, no TLS close_notify), "reset" (RST),
                 "hang" (never read or write again; closed at --hang-limit)

A step is taken when the first byte of a request is readable, so the order of
steps is the order in which requests arrive, whatever connection carries them.
With no step left, the request is logged as unscripted and the connection closed
without a response. The log holds, per accepted connection, the raw bytes of
every request read (base64), and what ended the connection.
"""
import argparse
import base64
import json
import select
import signal
import socket
import ssl
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_REQUEST = 16 * 1024 * 1024
IO_TIMEOUT = 30.0


class Script:
    """The steps still to take and what the server saw, shared by all connection threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.steps = []
        self.connections = []
        self.unscripted = 0

    def replace(self, steps):
        with self.lock:
            self.steps = list(steps)
            self.connections = []
            self.unscripted = 0

    def next_step(self):
        with self.lock:
            if not self.steps:
                self.unscripted += 1
                return None
            return self.steps.pop(0)

    def new_connection(self, peer):
        with self.lock:
            record = {"id": len(self.connections) + 1, "peer": list(peer[:2]),
                      "requests": [], "end": None}
            self.connections.append(record)
            return record

    def record(self, connection, key, value):
        with self.lock:
            if key == "requests":
                connection["requests"].append(value)
            else:
                connection[key] = value

    def snapshot(self):
        with self.lock:
            return {"connections": json.loads(json.dumps(self.connections)),
                    "steps_left": len(self.steps), "unscripted": self.unscripted}


class PeerClosed(Exception):
    pass


def wait_readable(sock, deadline):
    """True once `sock` has bytes (or EOF) to read, False at the deadline."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        readable, _, _ = select.select([sock], [], [], min(left, 1.0))
        if readable:
            return True


def read_request(sock, buffered):
    """One request (head and Content-Length body) from `buffered` + the socket.

    Returns (request bytes, bytes left over for the next request).
    """
    data = bytearray(buffered)
    while b"\r\n\r\n" not in data:
        if len(data) > MAX_REQUEST:
            raise ValueError("request head over %d bytes" % MAX_REQUEST)
        chunk = sock.recv(65536)
        if not chunk:
            raise PeerClosed("peer closed mid-request" if data else "peer closed")
        data += chunk
    head_end = data.index(b"\r\n\r\n") + 4
    length = 0
    for line in bytes(data[:head_end]).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(data) < head_end + length:
        chunk = sock.recv(65536)
        if not chunk:
            raise PeerClosed("peer closed mid-body")
        data += chunk
    end = head_end + length
    return bytes(data[:end]), bytes(data[end:])


def response_pieces(step):
    if "response_b64" in step:
        data = base64.b64decode(step["response_b64"])
    else:
        data = step.get("response", "").encode("latin-1")
    if "split_at" in step:
        cuts = [0] + sorted(step["split_at"]) + [len(data)]
        return [data[a:b] for a, b in zip(cuts, cuts[1:]) if b > a]
    size = step.get("piece") or max(len(data), 1)
    return [data[i:i + size] for i in range(0, len(data), size)]


def send_response(sock, step):
    delay = step.get("delay", 0)
    for index, piece in enumerate(response_pieces(step)):
        if index and delay:
            time.sleep(delay)
        sock.sendall(piece)


def serve_connection(sock, peer, script, options, stopping):
    record = script.new_connection(peer)
    try:
        sock.settimeout(IO_TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if options.tls_context is not None:
            try:
                sock = options.tls_context.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError) as error:
                script.record(record, "end", "tls handshake failed: %s" % error)
                return
        buffered = b""
        while not stopping.is_set():
            if not buffered and not wait_readable(sock, time.monotonic() + IO_TIMEOUT):
                script.record(record, "end", "idle timeout")
                return
            if not buffered:
                # Readable may mean EOF: look first so that a close between requests
                # takes no step. TLS cannot peek, so its bytes are kept instead.
                if options.tls_context is not None:
                    buffered = sock.recv(65536)
                    got = buffered
                else:
                    got = sock.recv(1, socket.MSG_PEEK)
                if not got:
                    script.record(record, "end", "peer closed")
                    return
            step = script.next_step()
            if step is None:
                script.record(record, "end", "unscripted request")
                return
            if step.get("read", True):
                request, buffered = read_request(sock, buffered)
                script.record(record, "requests", base64.b64encode(request).decode())
            send_response(sock, step)
            then = step.get("then", "keep")
            if then == "keep":
                continue
            if then == "hang":
                script.record(record, "end", "hang")
                stopping.wait(options.hang_limit)
                return
            if then == "reset":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            script.record(record, "end", then)
            return
    except PeerClosed as error:
        script.record(record, "end", str(error))
    except (OSError, ValueError) as error:
        script.record(record, "end", "error: %s" % error)
    finally:
        try:
            sock.close()
        except OSError:
            pass


def control_handler(script):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status, value):
            body = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_PUT(self):
            if self.path != "/script":
                return self.reply(404, {"error": "no such path"})
            length = int(self.headers.get("Content-Length", "0"))
            script.replace(json.loads(self.rfile.read(length)))
            self.reply(200, {"ok": True})

        def do_GET(self):
            if self.path != "/log":
                return self.reply(404, {"error": "no such path"})
            self.reply(200, script.snapshot())

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--rcvbuf", type=int,
                        help="SO_RCVBUF of the listening socket (and so of accepted ones)")
    parser.add_argument("--hang-limit", type=float, default=60.0)
    options = parser.parse_args()

    options.tls_context = None
    if options.tls_cert:
        options.tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        options.tls_context.load_cert_chain(options.tls_cert, options.tls_key)

    family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if options.rcvbuf:
        # Set before listen() so the small window is advertised from the SYN-ACK on.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, options.rcvbuf)
    listener.bind((options.host, options.port))
    listener.listen(64)

    script = Script()
    control = ThreadingHTTPServer(("127.0.0.1", 0), control_handler(script))
    control.daemon_threads = True
    threading.Thread(target=control.serve_forever, daemon=True).start()

    stopping = threading.Event()

    def stop(*_):
        stopping.set()
        try:
            listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        listener.close()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    print(json.dumps({"port": listener.getsockname()[1],
                      "control_port": control.server_address[1]}), flush=True)
    while not stopping.is_set():
        try:
            sock, peer = listener.accept()
        except OSError:
            break
        threading.Thread(target=serve_connection, daemon=True,
                         args=(sock, peer, script, options, stopping)).start()
    # The control thread is a daemon: exiting ends it without waiting out its poll interval.
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""An Echo-Server-like Usage API whose answers a test sets.

    python3 usage_server.py --port 0

Prints `READY port=<port>` once listening on 127.0.0.1.

    GET  /usage    {"memory":{"free":N,"used":N,"total":N,"percent":F}} (per mode)
    GET  /health, /ready    OK
    POST /control  JSON, any of:
                   {"percent": 80}            fixed percent (stops a wave)
                   {"mode": "ok"|"fail"|"hang"|"garbage"|"string"|"nan"|"missing"|"close"}
                   {"wave": {"low": 40, "high": 90, "period": 6}}  low, then high, each period/2 s
                   {"sequence": [50, 90, 50]} one percent per /usage answer, then the last one stays
                   {"delay": 0.5}             seconds to wait before every /usage answer
                   {"total": 2000000000}      V8's total_available_size
    GET  /control  the state and "usage_requests", the number of /usage requests received
    GET  /control/requests  {"times": [...]}: when each /usage request arrived (time.time(),
                   the last 10000), the server's log of samples
"""
import argparse
import json
import math
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODES = ("ok", "fail", "hang", "garbage", "string", "nan", "missing", "close")


class UsageState:
    """What /usage answers; `changed` wakes requests hanging in mode "hang"."""

    def __init__(self):
        self.changed = threading.Condition()
        self.percent = 50.0
        self.mode = "ok"
        self.wave = None
        self.wave_start = 0.0
        self.sequence = []
        self.delay = 0.0
        self.total = 2_000_000_000
        self.usage_requests = 0
        self.request_times = []
        self.hanging = 0

    def current_percent(self):
        if self.sequence:
            return self.sequence[0]
        if self.wave is None:
            return self.percent
        half = self.wave["period"] / 2.0
        phase = int((time.monotonic() - self.wave_start) / half) % 2
        return self.wave["high"] if phase else self.wave["low"]

    def update(self, body):
        """Apply a control body, all or nothing; raises ValueError naming the bad field."""
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        changes = {}
        if "percent" in body:
            changes.update(percent=_number(body["percent"], "percent"), wave=None, sequence=[])
        if "sequence" in body:
            if not isinstance(body["sequence"], list) or not body["sequence"]:
                raise ValueError("sequence must be a non-empty list of numbers")
            sequence = [_number(value, "sequence[]") for value in body["sequence"]]
            # Samples count exactly: the last value stays, without a wave after it.
            changes.update(sequence=sequence, percent=sequence[-1], wave=None)
        if body.get("wave") is not None:
            if not isinstance(body["wave"], dict):
                raise ValueError("wave must be an object {low, high, period}")
            wave = {key: _number(body["wave"].get(key), "wave." + key)
                    for key in ("low", "high", "period")}
            if wave["period"] <= 0:
                raise ValueError("wave.period must be > 0")
            changes.update(wave=wave, wave_start=time.monotonic(), sequence=[])
        elif "wave" in body:
            changes["wave"] = None
        if "delay" in body:
            changes["delay"] = _number(body["delay"], "delay")
        if "total" in body:
            changes["total"] = max(1, int(_number(body["total"], "total")))
        if "mode" in body:
            if body["mode"] not in MODES:
                raise ValueError("mode must be one of %s" % ", ".join(MODES))
            changes["mode"] = body["mode"]
        with self.changed:
            for name, value in changes.items():
                setattr(self, name, value)
            self.changed.notify_all()

    def describe(self):
        with self.changed:
            return {"percent": self.current_percent(), "mode": self.mode, "wave": self.wave,
                    "sequence": list(self.sequence),
                    "delay": self.delay, "total": self.total,
                    "usage_requests": self.usage_requests, "hanging": self.hanging}


def _number(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("%s must be a number, got %r" % (name, value))
    return float(value)


class UsageHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-echo-server"

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        state = self.server.state
        if self.path.split("?")[0] == "/usage":
            self.usage(state)
        elif self.path in ("/health", "/ready"):
            self.reply(200, "OK", "text/plain")
        elif self.path == "/control":
            self.reply(200, json.dumps(state.describe()))
        elif self.path == "/control/requests":
            with state.changed:
                times = list(state.request_times)
            self.reply(200, json.dumps({"times": times}))
        else:
            self.reply(404, "Not Found", "text/plain")

    def do_POST(self):
        if self.path != "/control":
            return self.reply(404, "Not Found", "text/plain")
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            self.server.state.update(json.loads(raw or b"null"))
        except ValueError as e:
            return self.reply(400, json.dumps({"error": str(e)}))
        self.reply(200, json.dumps(self.server.state.describe()))

    def usage(self, state):
        with state.changed:
            state.usage_requests += 1
            state.request_times = state.request_times[-9999:] + [time.time()]
            delay = state.delay
        if delay:
            time.sleep(delay)
        with state.changed:
            # Wait on the condition, not a sleep, so a mode change answers at once;
            # other connections have their own threads and are not held up.
            if state.mode == "hang":
                state.hanging += 1
                state.changed.wait_for(lambda: state.mode != "hang")
                state.hanging -= 1
            mode, percent, total = state.mode, state.current_percent(), state.total
            if mode == "ok" and state.sequence:
                state.sequence.pop(0)
        if mode == "close":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if mode == "fail":
            return self.reply(500, "Internal Server Error", "text/plain")
        if mode == "garbage":
            return self.reply(200, "<html><body>502 Bad Gateway</body></html>")
        used = round(total * percent / 100.0) if math.isfinite(percent) else 0
        memory = {"free": total - used, "used": used, "total": total,
                  "percent": used / total * 100.0}
        if mode == "string":
            memory["percent"] = str(memory["percent"])
        elif mode == "nan":
            memory["percent"] = math.nan  # json.dumps writes the bare NaN literal
        elif mode == "missing":
            del memory["percent"]
        self.reply(200, json.dumps({"memory": memory}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), UsageHandler)
    server.daemon_threads = True
    server.state = UsageState()
    print("READY port=%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

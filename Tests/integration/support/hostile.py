"""Hostile clients for a small HTTP server: slow-loris connections, garbage, a
1 MiB request line and 100 parallel clients at once, while a prober asks
/healthz every 0.1 s.

    outcome = run_hostile_clients(port, get)   # get(path, timeout=...) -> (status, headers, body)
    outcome.probe_failures, outcome.probe_times, outcome.probe_retries, outcome.parallel
"""
import os
import socket
import threading
import time
from dataclasses import dataclass, field


def raw_exchange(port, data, timeout=5.0, host="127.0.0.1"):
    """Sends `data` on a fresh connection and reads until the server closes it."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
        return received


@dataclass
class HostileOutcome:
    probe_failures: list = field(default_factory=list)
    probe_times: list = field(default_factory=list)
    probe_retries: int = 0
    parallel: list = field(default_factory=list)  # each parallel client's status, or its error's name


def run_hostile_clients(port, get):
    """Runs every hostile client at once (about 5 to 10 s) with a prober; returns what the prober saw."""
    outcome = HostileOutcome()
    stop = threading.Event()

    def prober():
        while not stop.is_set():
            started = time.monotonic()
            # A probe connection can be closed to make room (100 parallel clients compete for 16
            # slots) before its request was read; it is tried again, as a kubelet does at the next
            # period (failureThreshold 3). Each retry is counted.
            for attempt in range(3):
                try:
                    status = get("/healthz", timeout=2)[0]
                    if status != 200:
                        outcome.probe_failures.append(status)
                    break
                except OSError as error:
                    outcome.probe_retries += 1
                    if attempt == 2:
                        outcome.probe_failures.append(repr(error))
            outcome.probe_times.append(time.monotonic() - started)
            time.sleep(0.1)

    loris = []

    def slow_loris():
        for _ in range(40):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(b"GET /metrics HTTP/1.1\r\nHo")
            loris.append(sock)
        for _ in range(20):
            for sock in loris:
                try:
                    sock.send(b"s")
                except OSError:
                    pass
            time.sleep(0.2)

    def garbage():
        for index in range(50):
            try:
                raw_exchange(port, os.urandom(64 + index * 37), timeout=5)
            except OSError:
                pass

    def long_line():
        try:
            raw_exchange(port, b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\n\r\n", timeout=20)
        except OSError:
            pass

    def one_parallel():
        try:
            outcome.parallel.append(get("/metrics", timeout=10)[0])
        except OSError as error:
            outcome.parallel.append(type(error).__name__)

    threads = [threading.Thread(target=prober)]
    threads += [threading.Thread(target=f) for f in (slow_loris, garbage, long_line)]
    threads += [threading.Thread(target=one_parallel) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads[1:]:
        thread.join(timeout=60)
    stop.set()
    threads[0].join(timeout=10)
    for sock in loris:
        sock.close()
    return outcome

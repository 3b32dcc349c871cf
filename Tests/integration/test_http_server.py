"""HTTPLite's server (`httplite serve`, HTTPServer in a poll loop like the watcher's)
against real clients: curl, Python's http.client as a kubelet-style probe, the
real Prometheus server scraping it, and hostile clients (slow-loris, garbage, a
1 MiB request line, 100 parallel connections) while a normal client keeps probing.

`httplite serve` ticks every 0.1 s in its loop and reports in `/stats` how late
a tick ever came and how long one `advance` took: a server that held its loop
would show there.
"""
import http.client
import json
import os
import subprocess

import pytest

from conftest import require_tool
from support.hostile import raw_exchange, run_hostile_clients
from support.prometheus import Prometheus
from support.peers import free_port, read_file, stop_process, wait_for_port

METRICS = """# HELP network_watcher_build_info Always 1; the labels say what was built.
# TYPE network_watcher_build_info gauge
network_watcher_build_info{version="0.1.0 \\"test\\"",revision="abc"} 1
# HELP network_watcher_memory_usage_ratio Memory in use by the watched server at the last good sample, 0 to 1.
# TYPE network_watcher_memory_usage_ratio gauge
network_watcher_memory_usage_ratio 0.805
# HELP network_watcher_label_writes_total Writes of the label to the pod, by value.
# TYPE network_watcher_label_writes_total counter
network_watcher_label_writes_total{value="no"} 3
network_watcher_label_writes_total{value="yes"} 4
"""


class Served:
    def __init__(self, binary, folder, address="127.0.0.1"):
        self.metrics_path = os.path.join(folder, "metrics.txt")
        with open(self.metrics_path, "w") as f:
            f.write(METRICS)
        self.log_path = os.path.join(folder, "serve.log")
        self.port = free_port()
        self.host = "127.0.0.1"
        args = [binary, "serve", str(self.port), "--metrics", self.metrics_path]
        if address is not None:
            args += ["--address", address]
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_port(self.host, self.port, self.proc, "httplite serve", self.log_path)

    def url(self, path):
        return "http://%s:%d%s" % (self.host, self.port, path)

    def get(self, path, method="GET", headers=None, timeout=5):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def stats(self):
        return json.loads(self.get("/stats")[2])

    def stop(self):
        stop_process(self.proc)
        self.log.close()
        return read_file(self.log_path)


@pytest.fixture
def served(httplite_bin, tmp_path):
    server = Served(httplite_bin, str(tmp_path))
    yield server
    server.stop()


# ---------------------------------------------------------------- real clients

def test_curl_get_head_keepalive_and_errors(served):
    out = subprocess.run(["curl", "-sS", "-i", served.url("/metrics"), "-o", "/dev/stdout",
                          served.url("/healthz")], capture_output=True, timeout=30, check=True).stdout
    assert out.count(b"HTTP/1.1 200 OK\r\n") == 2
    assert b"Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n" in out
    assert METRICS.encode() in out
    # curl says when it reused the connection for the second URL.
    verbose = subprocess.run(["curl", "-sS", "-v", served.url("/healthz"), served.url("/healthz")],
                             capture_output=True, timeout=30, check=True).stderr
    assert b"Re-using existing connection" in verbose or b"Reusing existing connection" in verbose
    head = subprocess.run(["curl", "-sS", "-I", served.url("/metrics")], capture_output=True, timeout=30,
                          check=True).stdout
    assert b"Content-Length: %d\r\n" % len(METRICS) in head
    post = subprocess.run(["curl", "-sS", "-i", "-d", "x=1", served.url("/metrics")], capture_output=True,
                          timeout=30).stdout
    assert post.startswith(b"HTTP/1.1 413 ")
    delete = subprocess.run(["curl", "-sS", "-i", "-X", "DELETE", served.url("/metrics")], capture_output=True,
                            timeout=30).stdout
    assert delete.startswith(b"HTTP/1.1 405 ") and b"Allow: GET, HEAD\r\n" in delete
    assert subprocess.run(["curl", "-sS", "-i", "--http1.0", served.url("/nothing")], capture_output=True,
                          timeout=30).stdout.startswith(b"HTTP/1.1 404 ")


def test_kubelet_style_probe(served):
    # As the kubelet's httpGet probe sends it (pkg/probe/http): its User-Agent, Accept and a close.
    status, headers, body = served.get("/healthz", headers={"User-Agent": "kube-probe/1.29", "Accept": "*/*",
                                                            "Connection": "close"})
    assert (status, body) == (200, b"ok\n")
    assert headers["Connection"] == "close"


def test_every_address_serves_ipv4_and_ipv6(httplite_bin, tmp_path):
    server = Served(httplite_bin, str(tmp_path), address=None)
    try:
        assert server.get("/healthz")[0] == 200
        if "listening [::]" in read_file(server.log_path):
            connection = http.client.HTTPConnection("::1", server.port, timeout=5)
            connection.request("GET", "/healthz")
            assert connection.getresponse().status == 200
            connection.close()
    finally:
        server.stop()


def test_prometheus_scrapes_it(served, tmp_path):
    """The real Prometheus server (Debian's package) scrapes the endpoint every
    second; its query API then returns the series with their labels."""
    require_tool("prometheus")
    with Prometheus(served.port, tmp_path) as prometheus:
        found = prometheus.wait_for("network_watcher_label_writes_total", lambda result: len(result) == 2)
        assert sorted((r["metric"]["value"], r["value"][1]) for r in found) == [("no", "3"), ("yes", "4")]
        assert [r["value"][1] for r in prometheus.query("up")] == ["1"]
        info = prometheus.query("network_watcher_build_info")
        assert info[0]["metric"]["version"] == '0.1.0 "test"'


# ---------------------------------------------------------------- hostile clients

def test_refusals_reach_the_client(served):
    assert raw_exchange(served.port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n") \
        .startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert raw_exchange(served.port, b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"y" * 9000 + b"\r\n\r\n") \
        .startswith(b"HTTP/1.1 431 ")
    # The client sends all of a 1 MiB request line; the 414 still arrives whole.
    assert raw_exchange(served.port, b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\n\r\n", timeout=20) \
        .startswith(b"HTTP/1.1 414 URI Too Long\r\n")
    assert served.get("/healthz")[0] == 200


def test_hostile_clients_do_not_hold_the_loop(served):
    """Slow-loris connections, garbage, a 1 MiB request line and 100 parallel
    clients at once, while a prober asks /healthz every 0.1 s: every probe is
    answered within a second, and the loop's ticks keep their time."""
    outcome = run_hostile_clients(served.port, served.get)
    probe_failures, probe_times, parallel_results = outcome.probe_failures, outcome.probe_times, outcome.parallel
    stats = served.stats()
    print("loop:", stats, "probes:", len(probe_times), "slowest probe: %.3f s" % max(probe_times),
          "parallel answered:", parallel_results.count(200))
    assert probe_failures == []
    assert outcome.probe_retries <= len(probe_times) // 10, (outcome.probe_retries, len(probe_times))
    assert max(probe_times) < 1.0, probe_times
    assert len(parallel_results) == 100
    # 16 slots: some parallel clients are closed to make room, the rest answered; none hangs.
    assert parallel_results.count(200) >= 16, parallel_results
    assert stats["most_connections"] <= 16
    assert stats["longest_advance_seconds"] < 0.1, stats
    assert stats["max_tick_lateness_seconds"] < 0.2, stats

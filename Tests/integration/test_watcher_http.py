"""The watcher's health and metrics endpoints (HTTP_PORT), through the built binary:
kubelet-style probes of /healthz and /readyz as the loop's state changes,
`promtool check metrics` on its /metrics, the real Prometheus server scraping
it, and hostile clients while the usage flips: sampling keeps its interval
(counted from the usage server's log) and the label ends right.
"""
import http.client
import subprocess
import time

import pytest

from conftest import require_tool
from support.hostile import run_hostile_clients
from support.peers import free_port
from support.prometheus import Prometheus
from support.servers import fake_apiserver, start_fake_apiserver, start_usage_server, usage_server  # noqa: F401
from support.watcher import LABEL, POD, label, start_watcher, wait_samples, watcher_env  # noqa: F401

INTERVAL = 0.2
# As the kubelet's httpGet probe sends it (pkg/probe/http).
PROBE_HEADERS = {"User-Agent": "kube-probe/1.29", "Accept": "*/*", "Connection": "close"}


@pytest.fixture
def api(fake_apiserver):
    fake_apiserver.add_pod(POD, labels={LABEL: "yes"})
    return fake_apiserver


class Watched:
    """A watcher serving HTTP_PORT on 127.0.0.1."""

    def __init__(self, start_watcher, api, usage, **variables):
        self.port = free_port()
        self.watcher = start_watcher(watcher_env(api, usage, HTTP_PORT=self.port, HTTP_ADDRESS="127.0.0.1",
                                                 CHECKING_INTERVAL=INTERVAL, **variables))
        self.watcher.wait_logged("serving /healthz, /readyz and /metrics")

    def get(self, path, timeout=5, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def probe(self, path):
        status, _, body = self.get(path, headers=PROBE_HEADERS)
        return status, body.decode()

    def metric(self, line_start):
        """The value of the /metrics sample whose line starts with `line_start`, or None."""
        for line in self.get("/metrics")[2].decode().splitlines():
            if line.startswith(line_start + " "):
                return float(line.split()[-1])
        return None


def test_probes_follow_the_loop_and_stay_healthy_while_the_usage_api_fails(api, usage_server, start_watcher):
    usage_server.set(percent=30)
    # The API server refuses the first reads: the watcher is starting, alive but not ready.
    api.add_faults({"method": "GET", "path_regex": "/pods/", "status": 503, "count": 2})
    watched = Watched(start_watcher, api, usage_server)
    status, body = watched.probe("/readyz")
    assert (status, body) == (503, "the pod has not been read yet\n")
    assert watched.probe("/healthz") == (200, "ok\n")
    watched.watcher.wait_for(lambda: watched.probe("/readyz")[0] == 200, 10, "/readyz to answer 200")
    # The Usage API fails: the checks still run, so the watcher stays live (a restart would
    # not mend the Usage API), and the label is as decided, so it stays ready.
    usage_server.set(mode="fail")
    wait_samples(usage_server, 10)
    assert watched.probe("/healthz") == (200, "ok\n")
    assert watched.probe("/readyz") == (200, "ok\n")
    assert watched.metric('network_watcher_usage_failures_total{kind="status"}') >= 10
    usage_server.set(mode="ok", percent=90)
    watched.watcher.wait_for(lambda: label(api) == "no", 5, "the label to become no")
    watched.watcher.wait_for(lambda: watched.metric("network_watcher_accepts_new_connections") == 0, 3,
                             "accepts_new_connections 0")
    assert watched.metric('network_watcher_label_writes_total{value="no"}') == 1
    assert watched.metric("network_watcher_memory_usage_ratio") == 0.9
    assert watched.metric('network_watcher_api_requests_total{verb="get",code="503"}') == 2
    assert watched.metric('network_watcher_api_requests_total{verb="patch",code="200"}') == 1
    watched.watcher.wait_for(
        lambda: watched.metric('network_watcher_events_total{reason="OverThreshold"}') == 1, 3, "the Event count")


def test_promtool_accepts_the_metrics(api, usage_server, start_watcher, tmp_path):
    require_tool("promtool")
    usage_server.set(percent=90)
    watched = Watched(start_watcher, api, usage_server)
    watched.watcher.wait_for(lambda: label(api) == "no", 5, "the label to become no")
    status, headers, body = watched.get("/metrics")
    assert status == 200 and headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    checked = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, timeout=30)
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, b""), body.decode()


def test_prometheus_scrapes_the_watcher(api, usage_server, start_watcher, tmp_path):
    require_tool("prometheus")
    usage_server.set(percent=90)
    watched = Watched(start_watcher, api, usage_server)
    with Prometheus(watched.port, tmp_path) as prometheus:
        accepts = prometheus.wait_for("network_watcher_accepts_new_connections", lambda result: result
                                      and result[0]["value"][1] == "0")
        assert accepts[0]["metric"]["job"] == "watcher"
        info = prometheus.wait_for("network_watcher_build_info", lambda result: result)
        assert info[0]["metric"]["version"] and info[0]["value"][1] == "1"
        checks = prometheus.wait_for("network_watcher_check_duration_seconds_count", lambda result: result)
        assert float(checks[0]["value"][1]) >= 1


def test_hostile_clients_do_not_hold_sampling_while_the_usage_flips(api, usage_server, start_watcher):
    watched = Watched(start_watcher, api, usage_server)
    usage_server.set(wave={"low": 40, "high": 90, "period": 2})
    started = time.time()
    outcome = run_hostile_clients(watched.port, watched.get)
    ended = time.time()
    usage_server.set(percent=95)
    times = [t for t in usage_server.request_times() if started <= t <= ended]
    gaps = [b - a for a, b in zip(times, times[1:])]
    print("samples:", len(times), "in %.1f s, longest gap %.3f s;" % (ended - started, max(gaps)),
          "probes:", len(outcome.probe_times), "slowest %.3f s;" % max(outcome.probe_times),
          "parallel answered:", outcome.parallel.count(200))
    # No missed tick: at a 0.2 s interval no gap reaches two intervals.
    assert max(gaps) < 2 * INTERVAL, gaps
    assert outcome.probe_failures == []
    assert outcome.probe_retries <= len(outcome.probe_times) // 10, (outcome.probe_retries, len(outcome.probe_times))
    assert max(outcome.probe_times) < 1.0
    assert outcome.parallel.count(200) >= 16, outcome.parallel
    watched.watcher.wait_for(lambda: label(api) == "no", 5, "the label to follow the usage")

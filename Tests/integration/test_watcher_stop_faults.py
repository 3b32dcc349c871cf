"""The stop under faults: on SIGTERM/SIGINT the label is `no` within 2 seconds,
as PID 1 of a PID namespace, whatever the API server does: a label changed
from outside since the last read, a signal during start-up retries, one
503/429/409/500 on the stop's PATCH, a kept-alive connection gone silent, a
second signal during the stop. Also: an interrupted request is not logged as
refused, a good pod re-read ends a write's backoff, and a SIGTERM while a
write hangs on a silent connection sets `no` over a new one.
"""
import signal
import time

import pytest

from support.proxy import StallingProxy
from support.servers import (  # noqa: F401 (fixtures)
    fake_apiserver, start_fake_apiserver, start_usage_server, usage_server)
from support.watcher import (  # noqa: F401 (fixture)
    LABEL, POD, label, patched_values, patches, reasons, start_watcher, wait_samples, wait_until,
    watcher_env)

STOP_LIMIT = 2.0
POD_PATH = r"/pods/%s$" % POD


@pytest.fixture
def api(fake_apiserver):
    fake_apiserver.add_pod(POD, labels={LABEL: "yes"})
    return fake_apiserver


def running(start_watcher, env):
    watcher = start_watcher(env, pid1=True)
    watcher.wait_logged("watching pod")
    return watcher


def stop(watcher, signum=signal.SIGTERM):
    """Send `signum`; (exit status, seconds until the exit)."""
    sent = time.monotonic()
    watcher.signal(signum)
    status = watcher.wait(10)
    return status, time.monotonic() - sent


def set_label_from_outside(api, value):
    response = api.request("PATCH", "/api/v1/namespaces/default/pods/" + POD,
                           {"metadata": {"labels": {LABEL: value}}},
                           content_type="application/merge-patch+json")
    assert response.status == 200


def test_the_stop_sends_no_even_when_the_last_label_seen_was_no(api, usage_server, start_watcher):
    usage_server.set(percent=90)
    watcher = running(start_watcher, watcher_env(api, usage_server))
    watcher.wait_for(lambda: reasons(api) == ["OverThreshold"], 3, "OverThreshold")
    set_label_from_outside(api, "yes")  # and no re-read before the signal (resync is 30 s)
    status, took = stop(watcher)
    assert (status, took < STOP_LIMIT) == (0, True), (took, watcher.stderr())
    assert label(api) == "no"
    assert reasons(api) == ["OverThreshold", "Terminating"]


def test_the_stops_patch_is_not_overtaken_by_a_write_under_way(api, usage_server, start_watcher):
    """SIGTERM while the API server holds a write of yes for 0.3 s: cancelled, that write would
    still be applied after the stop's no (closing a connection does not recall a request)."""
    usage_server.set(percent=90)
    watcher = running(start_watcher, watcher_env(api, usage_server, CHECKING_INTERVAL="0.1"))
    watcher.wait_for(lambda: label(api) == "no", 5, "the label to become no")
    api.add_faults({"method": "PATCH", "path_regex": POD_PATH, "delay": 0.3, "count": 1})
    usage_server.set(percent=30)
    watcher.wait_for(lambda: [r for r in patches(api) if r.get("fault")], 5, "the write of yes to be held")
    status, took = stop(watcher)
    assert (status, took < STOP_LIMIT) == (0, True), (took, watcher.stderr())
    time.sleep(0.5)  # what the API server still held is applied by now
    assert label(api) == "no"
    assert patched_values(api)[-2:] == ["yes", "no"]


def test_a_signal_during_start_up_retries_still_sets_no(api, usage_server, start_watcher):
    api.add_faults({"method": "GET", "path_regex": POD_PATH, "status": 503, "count": 3})
    watcher = start_watcher(watcher_env(api, usage_server, STARTUP_TIMEOUT="30"), pid1=True)
    watcher.wait_logged("retrying", timeout=5)
    status, took = stop(watcher)
    assert (status, took < STOP_LIMIT) == (0, True), (took, watcher.stderr())
    assert label(api) == "no"
    assert reasons(api) == ["Terminating"]
    assert not watcher.logged("ERROR"), watcher.stderr()


@pytest.mark.parametrize("status, retry_after", [(503, None), (429, 1), (429, 30), (409, None), (500, None)])
def test_a_failed_stop_patch_is_retried_within_the_budget(api, usage_server, start_watcher,
                                                          status, retry_after):
    usage_server.set(percent=30)
    watcher = running(start_watcher, watcher_env(api, usage_server))
    wait_samples(usage_server, 2)
    api.add_faults({"method": "PATCH", "path_regex": POD_PATH, "status": status,
                    "retry_after": retry_after, "count": 1})
    status_code, took = stop(watcher)
    assert (status_code, took < STOP_LIMIT) == (0, True), (took, watcher.stderr())
    assert label(api) == "no"
    assert patched_values(api, status=status) == ["no"]
    assert patched_values(api) == ["no"]
    assert reasons(api) == ["Terminating"]


@pytest.fixture
def behind_proxy(api, usage_server, start_watcher):
    """A watcher at 30 % talking to `api` through a StallingProxy: (watcher, proxy)."""
    with StallingProxy(api.api_port) as proxy:
        usage_server.set(percent=30)
        watcher = running(start_watcher, watcher_env(api, usage_server,
                                                     KUBE_HOST="https://127.0.0.1:%d" % proxy.port))
        wait_samples(usage_server, 2)
        yield watcher, proxy


def test_a_silent_kept_alive_connection_does_not_eat_the_stop(api, behind_proxy):
    watcher, proxy = behind_proxy
    opened = proxy.connections()
    proxy.stall()
    status, took = stop(watcher)
    assert (status, took < STOP_LIMIT) == (0, True), (took, watcher.stderr())
    assert label(api) == "no"
    assert reasons(api) == ["Terminating"]
    assert proxy.connections() > opened  # over a new connection


def test_a_sigterm_while_a_write_hangs_on_a_silent_connection_sets_no_over_a_fresh_one(
        api, usage_server, start_watcher):
    with StallingProxy(api.api_port) as proxy:
        usage_server.set(percent=30)
        watcher = running(start_watcher, watcher_env(api, usage_server, CHECKING_INTERVAL="0.2",
                                                     KUBE_HOST="https://127.0.0.1:%d" % proxy.port,
                                                     API_TIMEOUT="10"))
        wait_samples(usage_server, 2)
        opened = proxy.connections()
        proxy.stall()
        usage_server.set(percent=90)
        # The write of no goes out on the kept-alive connection, which forwards nothing.
        time.sleep(0.5)
        assert label(api) == "yes"
        sent = time.monotonic()
        watcher.signal(signal.SIGTERM)
        status = watcher.wait(10)
        took = time.monotonic() - sent
        assert (status, took < STOP_LIMIT) == (0, True), (took, watcher.stderr())
        assert label(api) == "no"
        assert proxy.connections() > opened, "the stop's patch went over a new connection"
        assert reasons(api) == ["Terminating"]


def test_a_silent_kept_alive_connection_delays_a_flip_by_about_a_second(api, usage_server, behind_proxy):
    """Not API_TIMEOUT (5 s): a reused connection that does not begin to answer is given up."""
    watcher, proxy = behind_proxy
    proxy.stall()
    usage_server.set(percent=90)
    changed = time.monotonic()
    watcher.wait_for(lambda: label(api) == "no", 10, "the label to become no")
    took = time.monotonic() - changed
    assert took < 3.5, "the flip took %.1f s over a silent connection" % took
    watcher.wait_for(lambda: reasons(api) == ["OverThreshold"], 3, "the OverThreshold Event")


def test_a_second_signal_does_not_cut_the_stop_short(api, usage_server, start_watcher):
    usage_server.set(percent=30)
    watcher = running(start_watcher, watcher_env(api, usage_server))
    wait_samples(usage_server, 2)
    api.add_faults({"method": "PATCH", "path_regex": POD_PATH, "delay": 0.5, "count": 1})
    sent = time.monotonic()
    watcher.signal(signal.SIGTERM)
    time.sleep(0.15)
    watcher.signal(signal.SIGINT)
    status = watcher.wait(10)
    took = time.monotonic() - sent
    assert (status, took < STOP_LIMIT) == (0, True), (took, watcher.stderr())
    assert label(api) == "no"
    assert reasons(api) == ["Terminating"]


def test_a_third_signal_ends_the_stop_at_once(api, usage_server, start_watcher):
    usage_server.set(percent=30)
    watcher = running(start_watcher, watcher_env(api, usage_server))
    wait_samples(usage_server, 2)
    api.add_faults({"method": "PATCH", "path_regex": POD_PATH, "delay": 30, "count": -1})
    sent = time.monotonic()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGINT):
        watcher.signal(signum)
        time.sleep(0.1)
    status = watcher.wait(10)
    took = time.monotonic() - sent
    assert (status, took < 1.0) == (0, True), (took, watcher.stderr())
    assert watcher.logged("stopping at once")


def test_an_interrupted_write_is_not_logged_as_refused(api, usage_server, start_watcher):
    usage_server.set(percent=30)
    watcher = running(start_watcher, watcher_env(api, usage_server, API_TIMEOUT="5"))
    wait_samples(usage_server, 2)
    api.add_faults({"method": "PATCH", "path_regex": POD_PATH, "delay": 30, "count": -1})
    usage_server.set(percent=90)
    watcher.wait_for(lambda: [r for r in api.requests(POD_PATH) if r["method"] == "PATCH"], 3,
                     "the write to hang")
    status, took = stop(watcher)
    assert (status, took < STOP_LIMIT) == (0, True), (took, watcher.stderr())
    assert not [line for line in watcher.lines() if "refused" in line or "interrupted" in line], \
        watcher.stderr()


def test_a_good_pod_read_ends_the_write_backoff(api, usage_server, start_watcher):
    """A 503 with Retry-After: 30 on the write; the next re-read succeeds, so the write goes."""
    usage_server.set(percent=30)
    watcher = running(start_watcher, watcher_env(api, usage_server, POD_RESYNC_INTERVAL="1"))
    wait_samples(usage_server, 2)
    api.add_faults({"method": "PATCH", "path_regex": POD_PATH, "status": 503, "retry_after": 30,
                    "count": 1})
    usage_server.set(percent=90)
    watcher.wait_for(lambda: patched_values(api, status=503), 3, "the write to fail")
    watcher.wait_for(lambda: label(api) == "no", 5, "the label to become no after a good re-read")

"""Start and stop: SIGTERM/SIGINT set `no`, record a Terminating Event and exit 0
within 2 seconds, also when the API server hangs; a missing pod or a 403 at
start exits 1 with a clear message; an unreachable API server is retried for
STARTUP_TIMEOUT, then exit 1; TEST_MODE does one check and exits 0 or 1.
"""
import signal
import socket
import time

import pytest

from support.servers import (  # noqa: F401 (fixtures)
    fake_apiserver, start_fake_apiserver, start_usage_server, usage_server)
from support.watcher import (  # noqa: F401 (fixture)
    LABEL, POD, label, patched_values, posted_events, reasons, run_watcher,
    start_watcher, wait_samples, watcher_env)

STOP_LIMIT = 2.0


def closed_port():
    """A 127.0.0.1 port with nothing listening (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(watcher, signum=signal.SIGTERM):
    """Send `signum`; (exit status, seconds until the exit)."""
    sent = time.monotonic()
    watcher.signal(signum)
    status = watcher.wait(10)
    return status, time.monotonic() - sent


@pytest.fixture
def api(fake_apiserver):
    fake_apiserver.add_pod(POD, labels={LABEL: "yes"})
    return fake_apiserver


def running_watcher(start_watcher, api, usage, **variables):
    watcher = start_watcher(watcher_env(api, usage, **variables))
    watcher.wait_logged("watching pod")
    wait_samples(usage, 2)
    return watcher


# -- signals ----------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_sets_no_records_terminating_and_exits_0_quickly(api, usage_server,
                                                                 start_watcher, signum):
    usage_server.set(percent=30)
    watcher = running_watcher(start_watcher, api, usage_server)
    status, took = stop(watcher, signum)
    assert status == 0, watcher.stderr()
    assert took < STOP_LIMIT
    assert label(api) == "no"
    events = posted_events(api)
    assert [(e["type"], e["reason"]) for e in events] == [("Normal", "Terminating")]
    assert signal.Signals(signum).name in events[0]["message"]


def test_a_signal_on_a_rejecting_pod_still_records_terminating(api, usage_server,
                                                               start_watcher):
    usage_server.set(percent=90)
    watcher = running_watcher(start_watcher, api, usage_server)
    watcher.wait_for(lambda: reasons(api) == ["OverThreshold"], 3, "OverThreshold")
    status, took = stop(watcher)
    assert (status, took < STOP_LIMIT) == (0, True)
    assert label(api) == "no"
    assert reasons(api) == ["OverThreshold", "Terminating"]
    # The stop sends `no` although the label read `no`: what it last saw may be stale.
    assert patched_values(api) == ["no", "no"]


def test_a_signal_while_the_api_server_hangs_exits_0_within_2_seconds(api, usage_server,
                                                                      start_watcher):
    usage_server.set(percent=30)
    watcher = running_watcher(start_watcher, api, usage_server)
    api.add_faults({"delay": 30, "count": -1})
    status, took = stop(watcher)
    assert status == 0, watcher.stderr()
    assert took < STOP_LIMIT, took
    # It did try to set `no` before giving up.
    assert "PATCH" in [r["method"] for r in api.requests(r"/pods/") if r.get("fault")]


def test_a_signal_during_a_hanging_write_exits_0_within_2_seconds(api, usage_server,
                                                                  start_watcher):
    """The write in flight (API_TIMEOUT 5 s) must not hold up the stop."""
    usage_server.set(percent=30)
    watcher = running_watcher(start_watcher, api, usage_server, API_TIMEOUT="5")
    api.add_faults({"delay": 30, "count": -1})
    usage_server.set(percent=90)
    watcher.wait_for(lambda: [r for r in api.requests(r"/pods/") if r["method"] == "PATCH"], 3,
                     "the write to hang")
    time.sleep(0.2)
    status, took = stop(watcher)
    assert status == 0, watcher.stderr()
    assert took < STOP_LIMIT, took


def test_a_signal_while_waiting_for_the_api_server_at_start_exits_0(usage_server,
                                                                   start_watcher):
    env = watcher_env(None, usage_server, KUBE_CONNECTION="http",
                      KUBE_HOST="http://127.0.0.1:%d" % closed_port(), STARTUP_TIMEOUT="30")
    watcher = start_watcher(env)
    watcher.wait_logged("retrying", timeout=5)
    status, took = stop(watcher)
    assert status == 0, watcher.stderr()
    assert took < STOP_LIMIT


# -- start ------------------------------------------------------------------------------


def test_a_missing_pod_exits_1_saying_so(fake_apiserver, usage_server, watcher_bin):
    result = run_watcher(watcher_bin, watcher_env(fake_apiserver, usage_server), timeout=10)
    assert result.returncode == 1, result.stderr
    assert result.elapsed < 3
    errors = [line for line in result.lines if " ERROR " in line]
    assert errors and "default/some-pod" in errors[-1] and "not found" in errors[-1], result.stderr


def test_forbidden_get_at_start_exits_1_naming_the_verb_and_resource(
        start_fake_apiserver, usage_server, watcher_bin):
    api = start_fake_apiserver(tokens={"limited": ["patch pods", "create events"]})
    api.add_pod(POD)
    result = run_watcher(watcher_bin, watcher_env(api, usage_server, token="limited"),
                         timeout=10)
    assert result.returncode == 1, result.stderr
    assert result.elapsed < 3
    errors = [line for line in result.lines if " ERROR " in line]
    assert errors, result.stderr
    assert '"get"' in errors[-1] and '"pods"' in errors[-1], errors[-1]
    assert "403" in result.stderr or "forbidden" in errors[-1].lower()
    assert len([r for r in api.requests(r"/pods/")]) == 1  # not retried


def test_forbidden_patch_in_test_mode_exits_1_naming_the_verb(start_fake_apiserver,
                                                             usage_server, watcher_bin):
    api = start_fake_apiserver(tokens={"limited": ["get pods", "create events"]})
    api.add_pod(POD)
    result = run_watcher(watcher_bin, watcher_env(api, usage_server, token="limited"), "--test")
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.lines if " ERROR " in line]
    assert errors and '"patch"' in errors[-1] and '"pods"' in errors[-1], result.stderr


def test_forbidden_event_names_the_verb(start_fake_apiserver, usage_server, watcher_bin):
    api = start_fake_apiserver(tokens={"limited": ["get pods", "patch pods"]})
    api.add_pod(POD)
    usage_server.set(percent=90)
    result = run_watcher(watcher_bin, watcher_env(api, usage_server, token="limited"), "--test")
    assert label(api) == "no"
    errors = [line for line in result.lines if " ERROR " in line]
    assert errors and '"create"' in errors[-1] and '"events"' in errors[-1], result.stderr


def test_an_unreachable_api_server_exits_1_after_the_startup_timeout(usage_server, watcher_bin):
    env = watcher_env(None, usage_server, KUBE_CONNECTION="http",
                      KUBE_HOST="http://127.0.0.1:%d" % closed_port(), STARTUP_TIMEOUT="2")
    result = run_watcher(watcher_bin, env, timeout=15)
    assert result.returncode == 1, result.stderr
    # Retried for the whole STARTUP_TIMEOUT (an API server up at 1.9 s is used), not much longer.
    assert 1.7 <= result.elapsed < 5, result.elapsed
    assert len([line for line in result.lines if "retrying" in line]) >= 2, result.stderr
    assert " ERROR " in result.lines[-1] and "reached" in result.lines[-1], result.stderr


@pytest.mark.parametrize("fault", [{"drop": True}, {"status": 503}])
def test_an_api_server_that_becomes_ready_during_startup_is_used(api, usage_server,
                                                                  start_watcher, fault):
    api.add_faults(dict(fault, method="GET", count=-1))
    usage_server.set(percent=90)
    watcher = start_watcher(watcher_env(api, usage_server, STARTUP_TIMEOUT="20"))
    watcher.wait_logged("retrying", timeout=5, count=2)
    api.clear_faults()
    watcher.wait_for(lambda: label(api) == "no", 6, "the label after the API server came up")


# -- TEST_MODE ----------------------------------------------------------------------------


@pytest.mark.parametrize("how", [("TEST_MODE", "true"), ("TEST_MODE", "1"), ("TEST_MODE", "yes"),
                                 ("TEST_MODE", "TRUE"), ("--test", None)])
def test_test_mode_does_one_check_and_exits_0(api, usage_server, watcher_bin, how):
    name, value = how
    usage_server.set(percent=90)
    env = watcher_env(api, usage_server, **({name: value} if value else {}))
    result = run_watcher(watcher_bin, env, *([] if value else [name]), timeout=10)
    assert result.returncode == 0, result.stderr
    assert label(api) == "no"
    assert usage_server.state()["usage_requests"] == 1
    assert reasons(api) == ["OverThreshold"]


@pytest.mark.parametrize("value", ["false", "0", "no"])
def test_test_mode_off_keeps_watching(api, usage_server, start_watcher, value):
    watcher = start_watcher(watcher_env(api, usage_server, TEST_MODE=value))
    wait_samples(usage_server, 3)
    assert watcher.running()


@pytest.mark.parametrize("mode", ["fail", "garbage", "nan"])
def test_test_mode_exits_1_when_the_usage_api_fails(api, usage_server, watcher_bin, mode):
    usage_server.set(mode=mode)
    result = run_watcher(watcher_bin, watcher_env(api, usage_server, USAGE_TIMEOUT="0.5"),
                         "--test", timeout=10)
    assert result.returncode == 1, result.stderr
    assert "Usage API" in result.stderr
    assert label(api) == "yes"


def test_test_mode_exits_1_when_the_write_fails(api, usage_server, watcher_bin):
    usage_server.set(percent=90)
    api.add_faults({"method": "PATCH", "status": 500, "count": -1})
    result = run_watcher(watcher_bin, watcher_env(api, usage_server), "--test", timeout=10)
    assert result.returncode == 1, result.stderr
    assert label(api) == "yes"


def test_test_mode_exits_1_when_the_pod_is_missing(fake_apiserver, usage_server, watcher_bin):
    result = run_watcher(watcher_bin, watcher_env(fake_apiserver, usage_server), "--test",
                         timeout=10)
    assert result.returncode == 1
    assert "not found" in result.stderr

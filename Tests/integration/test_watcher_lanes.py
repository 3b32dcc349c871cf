"""The two lanes of the event loop, seen from outside: a held API request does not
stop sampling, the latest decision is written once the API server answers, and a
stop never waits on a request that hangs. The samples are counted from the usage
server's own log of requests.
"""
import time

import pytest

from support.proxy import StallingProxy
from support.servers import fake_apiserver, start_fake_apiserver, start_usage_server, usage_server  # noqa: F401
from support.watcher import (  # noqa: F401 (fixture)
    LABEL, POD, label, patched_values, patches, reasons, start_watcher, wait_samples, watcher_env)

POD_PATH = r"/pods/%s$" % POD
INTERVAL = 0.2


@pytest.fixture
def api(fake_apiserver):
    fake_apiserver.add_pod(POD, labels={LABEL: "yes"})
    return fake_apiserver


def running(start_watcher, env):
    watcher = start_watcher(env, pid1=True)
    watcher.wait_logged("watching pod")
    return watcher


def test_a_held_patch_does_not_stop_sampling_and_the_latest_decision_is_written_next(
        api, usage_server, start_watcher):
    usage_server.set(percent=30)
    watcher = running(start_watcher, watcher_env(api, usage_server, CHECKING_INTERVAL=INTERVAL,
                                                 API_TIMEOUT="10"))
    wait_samples(usage_server, 2)
    # Two: the copy on the kept-alive connection, given up after a second of silence, and
    # the one sent again on a new connection, which then waits for its answer.
    api.add_faults({"method": "PATCH", "path_regex": POD_PATH, "delay": 5, "count": 2})
    usage_server.set(percent=90)
    watcher.wait_for(lambda: patches(api), 3, "the write of no to be held")
    held = time.time()
    # While the API server holds the patch, usage keeps changing; the last word is 20 %.
    for percent in (40, 95, 20):
        time.sleep(1)
        usage_server.set(percent=percent)
    watcher.wait_for(lambda: len(patches(api)) == 3, 15, "the held writes of no, then yes")
    writes = [(r["time"], r["body"]["metadata"]["labels"][LABEL]) for r in patches(api)]
    assert [value for _, value in writes] == ["no", "no", "yes"], writes
    assert writes[2][0] - held > 4, "the write of yes went out before the held one was answered"
    during = [t for t in usage_server.request_times() if held + 0.5 <= t <= held + 4.5]
    gaps = [b - a for a, b in zip(during, during[1:])]
    # 20 samples at 0.2 s; a loop stalled by the held patch would take none.
    assert len(during) >= 12 and max(gaps) < 1.0, (len(during), gaps)
    watcher.wait_for(lambda: label(api) == "yes", 3, "the label to become yes")
    watcher.wait_for(lambda: reasons(api) == ["OverThreshold", "BelowThreshold"], 3, "both Events")


def test_a_sigterm_while_a_write_hangs_on_a_silent_connection_sets_no_over_a_fresh_one(
        api, usage_server, start_watcher):
    with StallingProxy(api.api_port) as proxy:
        usage_server.set(percent=30)
        watcher = running(start_watcher, watcher_env(api, usage_server, CHECKING_INTERVAL=INTERVAL,
                                                     KUBE_HOST="https://127.0.0.1:%d" % proxy.port,
                                                     API_TIMEOUT="10"))
        wait_samples(usage_server, 2)
        opened = proxy.connections()
        proxy.stall()
        usage_server.set(percent=90)
        # The write of no goes out on the kept-alive connection, which forwards nothing.
        time.sleep(2 * INTERVAL + 0.1)
        assert label(api) == "yes"
        sent = time.monotonic()
        watcher.signal(15)
        status = watcher.wait(10)
        took = time.monotonic() - sent
        assert (status, took < 2.0) == (0, True), (took, watcher.stderr())
        assert label(api) == "no"
        assert proxy.connections() > opened, "the stop's patch went over a new connection"
        assert reasons(api) == ["Terminating"]

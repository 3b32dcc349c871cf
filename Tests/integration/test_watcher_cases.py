"""The original tool's three cases, through the built binary against the fake API server.

80 % with threshold 80 becomes `no` with a Warning `OverThreshold` Event; 80 %
with threshold 90 becomes `yes`; a signal makes it `no`. Each runs in the
watch loop and, where the original's test did, in TEST_MODE.
"""
import signal

import pytest

from support.servers import (  # noqa: F401 (fixtures)
    fake_apiserver, start_fake_apiserver, start_usage_server, usage_server)
from support.watcher import (  # noqa: F401 (fixture)
    LABEL, POD, label, posted_events, run_watcher, start_watcher, wait_samples,
    watcher_env)


@pytest.mark.parametrize("mode", ["loop", "test"])
def test_80_percent_at_threshold_80_rejects_with_an_over_threshold_event(
        fake_apiserver, usage_server, start_watcher, watcher_bin, mode):
    api = fake_apiserver
    pod = api.add_pod(POD, labels={"app": "echo"})
    usage_server.set(percent=80)
    env = watcher_env(api, usage_server, MEMORY_PERCENT="80")
    if mode == "test":
        result = run_watcher(watcher_bin, env, "network:watch", "--test")
        assert result.returncode == 0, result.stderr
    else:
        watcher = start_watcher(env, "network:watch")
        watcher.wait_for(lambda: label(api) == "no", 5, "the label to become no")
        watcher.wait_for(lambda: posted_events(api), 5, "an Event")
        wait_samples(usage_server)  # more samples at 80 % must not post the Event again
    assert label(api) == "no"
    assert api.labels(POD)["app"] == "echo"
    events = posted_events(api)
    assert len(events) == 1, events
    event = events[0]
    assert (event["type"], event["reason"]) == ("Warning", "OverThreshold")
    assert event["message"] == ("Rejecting new connections. "
                                "Echo container uses 80%, threshold is 80%")
    assert event["involvedObject"]["name"] == POD
    assert event["involvedObject"]["uid"] == pod["metadata"]["uid"]
    stored = api.events()
    assert [e["reason"] for e in stored] == ["OverThreshold"]


@pytest.mark.parametrize("mode", ["loop", "test"])
def test_80_percent_with_threshold_90_accepts(fake_apiserver, usage_server, start_watcher,
                                              watcher_bin, mode):
    """A pod without the label counts as accepting: it gets `yes` and, as in the
    original tool, no Event (it did not change from rejecting to accepting)."""
    api = fake_apiserver
    api.add_pod(POD)
    usage_server.set(percent=80)
    env = watcher_env(api, usage_server, MEMORY_PERCENT="90")
    if mode == "test":
        result = run_watcher(watcher_bin, env, "--test")
        assert result.returncode == 0, result.stderr
    else:
        watcher = start_watcher(env)
        watcher.wait_for(lambda: label(api) == "yes", 5, "the label to become yes")
        wait_samples(usage_server)
    assert label(api) == "yes"
    assert [e["reason"] for e in posted_events(api, accepted=False)] == []


def test_80_percent_with_threshold_90_on_a_rejecting_pod_accepts_with_a_below_threshold_event(
        fake_apiserver, usage_server, start_watcher):
    api = fake_apiserver
    api.add_pod(POD, labels={LABEL: "no"})
    usage_server.set(percent=80)
    watcher = start_watcher(watcher_env(api, usage_server, MEMORY_PERCENT="90"))
    watcher.wait_for(lambda: label(api) == "yes", 5, "the label to become yes")
    watcher.wait_for(lambda: posted_events(api), 5, "an Event")
    wait_samples(usage_server)
    events = posted_events(api)
    assert [(e["type"], e["reason"], e["message"]) for e in events] == [
        ("Normal", "BelowThreshold",
         "Accepting new connections. Echo container uses 80%, threshold is 90%")]


def test_a_signal_makes_the_pod_reject(fake_apiserver, usage_server, start_watcher):
    api = fake_apiserver
    api.add_pod(POD)
    usage_server.set(percent=50)
    watcher = start_watcher(watcher_env(api, usage_server, MEMORY_PERCENT="80"))
    watcher.wait_for(lambda: label(api) == "yes", 5, "the label to become yes")
    wait_samples(usage_server, samples=2)
    watcher.signal(signal.SIGINT)
    assert watcher.wait(5) == 0
    assert label(api) == "no"
    assert [e["reason"] for e in posted_events(api)][-1] == "Terminating"

"""Hysteresis (issue 12): ACCEPT_PERCENT and FLIP_AFTER_SAMPLES, through the built binary
against the fake API server and a usage server that answers one given percent per sample.

With ACCEPT_PERCENT=70 a pod rejecting at 80 keeps `no` at 72 and accepts at 69; with
FLIP_AFTER_SAMPLES=3 one or two high samples flip nothing and three do. With neither,
one high sample flips the label, as it always did.
"""

from support.servers import (  # noqa: F401 (fixtures)
    fake_apiserver, start_fake_apiserver, start_usage_server, usage_server)
from support.watcher import (  # noqa: F401 (fixture)
    LABEL, POD, label, patched_values, posted_events, start_watcher, wait_samples, watcher_env)

def start(api, usage, start_watcher, percent, **settings):
    """A watcher on a pod labelled `yes`, its first samples at `percent` taken."""
    api.add_pod(POD, labels={LABEL: "yes"})
    usage.set(percent=percent)
    watcher = start_watcher(watcher_env(api, usage, **settings))
    watcher.wait_logged("watching pod")
    wait_samples(usage, samples=3)
    return watcher


def events(api):
    return [(e["type"], e["reason"], e["message"]) for e in posted_events(api)]


def test_inside_the_band_a_rejecting_pod_stays_rejecting(fake_apiserver, usage_server, start_watcher):
    api = fake_apiserver
    watcher = start(api, usage_server, start_watcher, 80, ACCEPT_PERCENT="70")
    watcher.wait_for(lambda: label(api) == "no", 5, "the label to become no")
    usage_server.set(percent=72)
    wait_samples(usage_server, samples=10, timeout=10)
    assert label(api) == "no"
    assert patched_values(api) == ["no"]
    usage_server.set(percent=69)
    watcher.wait_for(lambda: label(api) == "yes", 5, "the label to become yes")
    watcher.wait_for(lambda: len(posted_events(api)) == 2, 5, "two Events")
    assert events(api) == [
        ("Warning", "OverThreshold",
         "Rejecting new connections. Echo container uses 80%, threshold is 75%, accepts again below 70%"),
        ("Normal", "BelowThreshold",
         "Accepting new connections. Echo container uses 69%, threshold is 75%, accepts again below 70%"),
    ]


def test_one_or_two_high_samples_do_not_flip_and_three_do(fake_apiserver, usage_server, start_watcher):
    api = fake_apiserver
    watcher = start(api, usage_server, start_watcher, 50, FLIP_AFTER_SAMPLES="3")
    for run in ([90, 50], [90, 90, 50], [90, 50, 90, 90, 50]):
        usage_server.set(sequence=run)
        wait_samples(usage_server, samples=len(run) + 5, timeout=10)
        assert usage_server.state()["sequence"] == []
        assert label(api) == "yes", run
        assert patched_values(api) == [] and posted_events(api, accepted=False) == [], run
    usage_server.set(sequence=[90, 90, 90])
    watcher.wait_for(lambda: label(api) == "no", 5, "the label to become no")
    watcher.wait_for(lambda: posted_events(api), 5, "an Event")
    assert events(api) == [
        ("Warning", "OverThreshold",
         "Rejecting new connections. Echo container uses 90%, threshold is 75%, flips after 3 samples in a row")]


def test_without_them_one_high_sample_flips_as_before(fake_apiserver, usage_server, start_watcher):
    """The defaults are the old rule: the same single high sample flips the label twice."""
    api = fake_apiserver
    watcher = start(api, usage_server, start_watcher, 50)
    usage_server.set(sequence=[90, 50])
    watcher.wait_for(lambda: len(posted_events(api)) == 2, 5, "two Events")
    assert patched_values(api) == ["no", "yes"]
    assert events(api) == [
        ("Warning", "OverThreshold", "Rejecting new connections. Echo container uses 90%, threshold is 75%"),
        ("Normal", "BelowThreshold", "Accepting new connections. Echo container uses 50%, threshold is 75%"),
    ]

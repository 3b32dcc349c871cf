"""The Events the watcher posts, as sent on the wire, against Kubernetes' own schema.

Pinned to Kubernetes 1.30 (`kubernetes_validate.validate(obj, "1.30",
strict=True)`, PyPI kubernetes-validate). The schema does not check formats,
so timestamps are checked here: RFC 3339 in UTC with second precision (a
regex, and the rfc3339-validator package where installed). Also: every field
KUBERNETES.md lists, involvedObject.uid equal to the pod's uid, and names of
the form `<pod>.<hex>`, each one unique.

One watcher run (module fixture) produces every kind of Event: OverThreshold,
BelowThreshold, UsageUnavailable (reject policy) and Terminating (SIGTERM).
"""
import copy
import datetime
import re
import signal

import kubernetes_validate
import pytest

from support.servers import start_fake_apiserver_program, start_usage_server_program
from support.watcher import LABEL, POD, Watcher, label, posted_events, watcher_env

KUBE_VERSION = "1.30"
POD_UID = "5b0d3e4c-8f3a-4c1e-9a57-0c6f2b9d7e21"
SECOND_PRECISION_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
EXPECTED = [
    ("Warning", "OverThreshold",
     "Rejecting new connections. Echo container uses 87.5%, threshold is 75%"),
    ("Normal", "BelowThreshold",
     "Accepting new connections. Echo container uses 30.25%, threshold is 75%"),
    ("Warning", "UsageUnavailable", None),
    ("Normal", "BelowThreshold",
     "Accepting new connections. Echo container uses 30.25%, threshold is 75%"),
    ("Normal", "Terminating", None),
]


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


@pytest.fixture(scope="module")
def run(watcher_bin, test_pki):
    """Servers and one watcher run through every Event; the posted Events and the pod."""
    api = start_fake_apiserver_program(test_pki)
    usage = start_usage_server_program()
    watcher = None
    try:
        api.add_pod(POD, labels={LABEL: "yes"}, uid=POD_UID)
        usage.set(percent=30.25)
        started = utc_now()
        watcher = Watcher(watcher_bin, watcher_env(api, usage, MEMORY_PERCENT="75",
                                                   ON_USAGE_FAILURE="reject",
                                                   USAGE_FAILURE_THRESHOLD="2"))
        watcher.wait_logged("watching pod")

        def step(count, what):
            watcher.wait_for(lambda: len(posted_events(api)) >= count, 5, what)

        usage.set(percent=87.5)
        step(1, "OverThreshold")
        usage.set(percent=30.25)
        step(2, "BelowThreshold")
        usage.set(mode="fail")
        step(3, "UsageUnavailable")
        usage.set(mode="ok")
        step(4, "BelowThreshold again")
        watcher.signal(signal.SIGTERM)
        assert watcher.wait(5) == 0
        ended = utc_now() + datetime.timedelta(seconds=1)
        yield {"api": api, "events": posted_events(api), "stored": api.events(),
               "posts": [r for r in api.requests(r"/events$") if r["method"] == "POST"],
               "pod": api.pod(POD), "started": started, "ended": ended,
               "label": label(api)}
    finally:
        if watcher is not None:
            watcher.close()
        usage.stop()
        api.stop()


def test_the_run_posted_every_kind_of_event(run):
    got = [(e["type"], e["reason"], e["message"]) for e in run["events"]]
    assert [g[:2] for g in got] == [e[:2] for e in EXPECTED]
    for (_, _, message), (_, reason, expected) in zip(got, EXPECTED):
        if expected:
            assert message == expected
        else:
            assert message.startswith("Rejecting new connections."), (reason, message)
    assert "SIGTERM" in got[-1][2]
    assert run["label"] == "no"
    # A POST cut short by the signal is sent again by the stop: the server may have had it
    # already, and then answers 409 AlreadyExists for the same name. Nothing else fails.
    recorded = set()
    for post in run["posts"]:
        name = post["body"]["metadata"]["name"]
        assert post["status"] == 201 or (post["status"] == 409 and name in recorded), \
            [(p["status"], p["body"]["reason"]) for p in run["posts"]]
        recorded.add(name)


def test_every_event_is_valid_against_kubernetes_1_30_strict(run):
    assert run["events"]
    for event in run["events"]:
        kubernetes_validate.validate(event, KUBE_VERSION, strict=True)


def test_the_validator_does_reject_a_broken_event(run):
    """So the test above cannot pass by validating nothing."""
    for breakage in ({"count": "1"}, {"involvedObject": {"kind": "Pod", "uid": 5}},
                     {"unknownField": True}):
        broken = copy.deepcopy(run["events"][0])
        broken.update(breakage)
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, KUBE_VERSION, strict=True)


def test_every_event_has_the_fields_kubernetes_md_lists(run):
    for event in run["events"]:
        assert event["apiVersion"] == "v1" and event["kind"] == "Event"
        assert event["metadata"]["namespace"] == "default"
        assert event["involvedObject"] == {"apiVersion": "v1", "kind": "Pod", "name": POD,
                                           "namespace": "default", "uid": POD_UID}
        assert event["type"] in ("Normal", "Warning")
        assert re.fullmatch(r"[A-Z][A-Za-z]+", event["reason"])
        assert event["message"]
        assert event["count"] == 1
        assert event["source"]["component"] == "network-watcher"
        assert event["reportingComponent"] == "network-watcher"
        assert event["reportingInstance"]
        assert "eventTime" not in event or event["eventTime"] is None


def test_timestamps_are_rfc3339_utc_with_second_precision(run):
    moments = []
    for event in run["events"]:
        for field in ("firstTimestamp", "lastTimestamp"):
            value = event[field]
            assert SECOND_PRECISION_UTC.fullmatch(value), (field, value)
            moment = datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=datetime.timezone.utc)
            assert run["started"] <= moment <= run["ended"], (field, value)
        assert event["firstTimestamp"] == event["lastTimestamp"]
        moments.append(event["firstTimestamp"])
    assert moments == sorted(moments)


def test_timestamps_pass_rfc3339_validator(run):
    rfc3339_validator = pytest.importorskip("rfc3339_validator")
    for event in run["events"]:
        for field in ("firstTimestamp", "lastTimestamp"):
            assert rfc3339_validator.validate_rfc3339(event[field]), event[field]
    assert not rfc3339_validator.validate_rfc3339("2026-11-25 12:00:00")


def test_involved_object_uid_is_the_pods(run):
    assert run["pod"]["metadata"]["uid"] == POD_UID
    assert {e["involvedObject"]["uid"] for e in run["events"]} == {POD_UID}


def test_names_are_pod_dot_hex_and_unique(run):
    names = [e["metadata"]["name"] for e in run["events"]]
    for name in names:
        assert re.fullmatch(r"%s\.[0-9a-f]+" % re.escape(POD), name), name
    assert len(set(names)) == len(names), names
    # Every Event was stored: none was refused as a duplicate.
    assert sorted(e["metadata"]["name"] for e in run["stored"]) == sorted(names)

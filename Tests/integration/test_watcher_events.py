"""The Events the watcher posts, as sent on the wire, against Kubernetes' own schema.

Pinned to Kubernetes 1.30 (`kubernetes_validate.validate(obj, "1.30",
strict=True)`, PyPI kubernetes-validate). The schema does not check formats,
so timestamps are checked here: RFC 3339 in UTC with second precision (a
regex, and the rfc3339-validator package where installed). Also: every field
KUBERNETES.md lists, involvedObject.uid equal to the pod's uid, and names of
the form `<pod>.<hex>`, each one unique.

One watcher run (module fixture) produces every kind of Event: OverThreshold,
BelowThreshold, UsageUnavailable (reject policy) and Terminating (SIGTERM), and one
repeat, which is a PATCH of the first one's count, as client-go's EventCorrelator
records it. A flapping run of 200 flips checks the correlator's bounds end to end.
"""
import copy
import datetime
import http.client
import re
import signal

import kubernetes_validate
import pytest

from support.servers import start_fake_apiserver_program, start_usage_server_program
from support.peers import free_port
from support.servers import kubectl  # noqa: F401 (fixture)
from support.watcher import LABEL, POD, Watcher, label, parse_line, posted_events, watcher_env

KUBE_VERSION = "1.30"
POD_UID = "5b0d3e4c-8f3a-4c1e-9a57-0c6f2b9d7e21"
SECOND_PRECISION_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
BELOW = "Accepting new connections. Echo container uses 30.25%, threshold is 75%"
# The Events created; the second BelowThreshold, identical to the first, is a PATCH of its count.
EXPECTED = [
    ("Warning", "OverThreshold",
     "Rejecting new connections. Echo container uses 87.5%, threshold is 75%"),
    ("Normal", "BelowThreshold", BELOW),
    ("Warning", "UsageUnavailable", None),
    ("Normal", "Terminating", None),
]
MERGE = "application/merge-patch+json"


def event_patches(api):
    """The PATCH requests on Events, oldest first, with their status."""
    return [r for r in api.requests(r"/events/[^/]+$") if r["method"] == "PATCH"]


def event_writes(api):
    """The Event creates and count patches the API server accepted, oldest first."""
    return [r for r in api.requests(r"/events(/[^/]+)?$")
            if r["method"] in ("POST", "PATCH") and r["status"] in (200, 201)]


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
            watcher.wait_for(lambda: len(event_writes(api)) >= count, 5, what)

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
               "patches": event_patches(api),
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


def test_the_repeat_is_a_merge_patch_of_the_first_ones_count(run):
    below = next(e for e in run["events"] if e["reason"] == "BelowThreshold")
    name = below["metadata"]["name"]
    # A PATCH cut short by the signal is sent again by the stop: the count is absolute, so
    # the repeat changes nothing.
    sent = run["patches"][0]
    assert run["patches"] and all(p["path"].rsplit("/", 1)[1] == name and p["status"] == 200
                                  and p["body"] == sent["body"] for p in run["patches"])
    assert sent["headers"]["content-type"] == MERGE
    assert set(sent["body"]) == {"count", "lastTimestamp", "message"}
    assert sent["body"]["count"] == 2 and sent["body"]["message"] == BELOW
    stored = next(e for e in run["stored"] if e["metadata"]["name"] == name)
    assert stored["count"] == 2
    assert stored["firstTimestamp"] == below["firstTimestamp"]
    assert stored["lastTimestamp"] == sent["body"]["lastTimestamp"] >= below["firstTimestamp"]
    # What the API server keeps after the patch is still a valid Event.
    for event in run["stored"]:
        kubernetes_validate.validate(event, KUBE_VERSION, strict=True)


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


# -- a flapping run: client-go's correlation, end to end ------------------------------

FLAP_SAMPLES = 300
SPAM_BURST = 25
AGGREGATE_PREFIX = "(combined from similar events): "


def events_total(port):
    """network_watcher_events_total by reason, from the watcher's /metrics."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
    finally:
        connection.close()
    return {match.group(1): int(float(match.group(2)))
            for match in re.finditer(r'^network_watcher_events_total\{reason="([^"]+)"\} (\S+)$', text, re.M)}


def reason_of(write, writes):
    """The reason of the Event a create or count patch wrote."""
    if write["method"] == "POST":
        return write["body"]["reason"]
    name = write["path"].rsplit("/", 1)[1]
    return next(w["body"]["reason"] for w in writes if w["method"] == "POST" and w["body"]["metadata"]["name"] == name)


def flapping_sequence():
    """Usage that crosses the threshold at every sample, with 15 distinct percents on each
    side, so repeats are counted and new messages aggregated after the 9th."""
    return [80 + (i // 2) % 15 if i % 2 == 0 else 30 + (i // 2) % 15 for i in range(FLAP_SAMPLES)]


def test_a_flapping_run_leaves_few_events_whose_counts_add_up(watcher_bin, test_pki, kubectl):
    """200 and more flips seen by the API server: every flip is one Event occurrence. The
    first 25 are recorded (the spam filter's burst; the run is shorter than the 300 s a new
    token takes), on at most 9 Events per reason with their own message and one aggregate
    Event per reason, at most 20 objects before the stop's Terminating; the rest are
    dropped, and the watcher's log says so for each. So the counts the API server holds add up to the flips
    it saw minus the drops the watcher logged, which is 25, and `kubectl get events -o
    wide` shows those counts."""
    api = start_fake_apiserver_program(test_pki)
    usage = start_usage_server_program()
    watcher = None
    try:
        api.add_pod(POD, labels={LABEL: "yes"}, uid=POD_UID)
        usage.set(percent=50)
        port = free_port()
        watcher = Watcher(watcher_bin, watcher_env(api, usage, MEMORY_PERCENT="75", CHECKING_INTERVAL="0.04",
                                                   HTTP_PORT=port, HTTP_ADDRESS="127.0.0.1"))
        watcher.wait_logged("watching pod")
        usage.set(sequence=flapping_sequence())
        watcher.wait_for(lambda: usage.state()["usage_requests"] >= FLAP_SAMPLES + 5, 60,
                         "the whole sequence to be sampled")
        # The last value (below) stays: once the label reads yes, nothing more is written.
        watcher.wait_for(lambda: label(api) == "yes", 10, "the last flip")
        flips = [r for r in api.requests(r"/pods/%s$" % POD) if r["method"] == "PATCH" and r["status"] == 200]
        assert len(flips) >= 200, len(flips)
        label_set = [parse_line(line)[3] for line in watcher.logged("label set")]
        label_set = [fields for fields in label_set if "reason" in fields]
        recorded = len([fields for fields in label_set if fields["event"] != "dropped"])
        # Event writes wait while label writes are due: they go out once the flapping stops.
        watcher.wait_for(lambda: sum(e["count"] for e in api.events()) >= recorded, 20,
                         "the queued Event writes")
        writes = event_writes(api)
        events = api.events()
        # The API server holds the last write before the watcher has read the answer and counted it.
        watcher.wait_for(lambda: sum(events_total(port).values()) >= len(writes), 5, "the last write counted")
        metrics = events_total(port)
        watcher.signal(signal.SIGTERM)
        assert watcher.wait(5) == 0
        final = api.events()
        wide = kubectl(api, "get", "events", "-o", "wide").stdout.splitlines()
    finally:
        if watcher is not None:
            watcher.close()
        usage.stop()
        api.stop()

    # Every flip the API server saw is one occurrence, logged with what became of its Event.
    assert len(label_set) == len(flips)
    dropped = [fields for fields in label_set if fields["event"] == "dropped"]
    assert len(dropped) == len(flips) - SPAM_BURST
    # Writes still queued while the label flaps are merged per Event (absolute counts), so
    # there may be fewer requests than occurrences, but no fewer than objects.
    assert len(events) <= len(writes) <= SPAM_BURST
    # events_total counts each Event write accepted: creates and count patches.
    assert metrics == {reason: len([w for w in writes if reason_of(w, writes) == reason])
                       for reason in ("OverThreshold", "BelowThreshold", "UsageUnavailable", "Terminating")}
    assert sum(metrics.values()) == len(writes)
    # A bounded number of objects whose counts add up to what was written.
    assert len(events) <= 2 * 10, [e["message"] for e in events]
    assert sum(e["count"] for e in events) == len(flips) - len(dropped) == SPAM_BURST
    by_reason = {}
    for event in events:
        by_reason.setdefault(event["reason"], []).append(event)
        kubernetes_validate.validate(event, KUBE_VERSION, strict=True)
    assert set(by_reason) == {"OverThreshold", "BelowThreshold"}
    for reason, group in by_reason.items():
        own = [e for e in group if not e["message"].startswith(AGGREGATE_PREFIX)]
        combined = [e for e in group if e["message"].startswith(AGGREGATE_PREFIX)]
        assert len(own) <= 9 and len(combined) <= 1, (reason, [e["message"] for e in group])
        assert len({e["message"] for e in own}) == len(own), "one Event per distinct message"
    assert any(e["message"].startswith(AGGREGATE_PREFIX) and e["count"] > 1 for e in events), \
        "the run aggregated: more than 9 distinct messages per reason within 10 minutes"
    # Each count patch is for a name created before; each object holds its last write's count
    # (a create still queued when its repeats came creates it with their count).
    created = set()
    for write in writes:
        if write["method"] == "POST":
            created.add(write["body"]["metadata"]["name"])
        else:
            assert write["path"].rsplit("/", 1)[1] in created
            assert set(write["body"]) == {"count", "lastTimestamp", "message"}
    for event in events:
        name = event["metadata"]["name"]
        counts = [w["body"]["count"] for w in writes if w["path"].endswith("/" + name)
                  or w["method"] == "POST" and w["body"]["metadata"]["name"] == name]
        assert event["count"] == counts[-1], (name, counts)
    # The stop's Terminating Event is never dropped by the spam filter.
    terminating = [e for e in final if e["reason"] == "Terminating"]
    assert len(terminating) == 1 and terminating[0]["count"] == 1
    assert len(final) == len(events) + 1
    # kubectl shows the counts (COUNT is a -o wide column, as against a real API server).
    header = wide[0].split()
    count_at, name_at = header.index("COUNT") - 1, header.index("NAME") - 1  # "LAST SEEN" is two words
    shown = {row.split()[-1]: int(row.split()[-2]) for row in wide[1:]}
    assert len(shown) == len(final)
    assert shown == {e["metadata"]["name"]: e["count"] for e in final}
    assert sum(shown.values()) == SPAM_BURST + 1
    assert count_at < name_at


def test_a_role_without_patch_on_events_still_records_every_event(watcher_bin, test_pki):
    """The soketi chart's Role grants events create only: the first count PATCH is refused
    403, the watcher says so once, creates that Event anew, and creates every later one."""
    api = start_fake_apiserver_program(test_pki, tokens={"chart": ["get pods", "patch pods", "create events"]})
    usage = start_usage_server_program()
    watcher = None
    try:
        api.add_pod(POD, labels={LABEL: "yes"}, uid=POD_UID)
        usage.set(percent=50)
        watcher = Watcher(watcher_bin, watcher_env(api, usage, token="chart", MEMORY_PERCENT="75"))
        watcher.wait_logged("watching pod")
        usage.set(sequence=[90, 50, 90, 50, 90])
        watcher.wait_for(lambda: len(posted_events(api)) >= 5, 10, "five Events")
        refused = [r for r in api.requests(r"/events/") if r["method"] == "PATCH"]
        warnings = watcher.logged("patching Events is forbidden")
        posted = posted_events(api)
    finally:
        if watcher is not None:
            watcher.close()
        usage.stop()
        api.stop()
    assert [r["status"] for r in refused] == [403]
    assert len(warnings) == 1 and "hint=" in warnings[0]
    assert [e["reason"] for e in posted] == ["OverThreshold", "BelowThreshold"] * 2 + ["OverThreshold"]
    assert all(e["count"] == 1 for e in posted)
    assert len({e["metadata"]["name"] for e in posted}) == 5

"""The watch loop, with a running watcher at a 0.1 s interval: the label follows
the memory use both ways; the label is cached and the pod re-read every
POD_RESYNC_INTERVAL, so an outside change is put right; the usage-failure
policy (keep or reject) for every way the Usage API can fail, none of which
counts as 0 %; retries of the label write after 409, 429 (with Retry-After) and
503 while sampling goes on, the latest decision winning; every write a JSON
merge patch of metadata.labels, never a PUT; the log format.
"""
import time

import pytest

from support.servers import (  # noqa: F401 (fixtures)
    fake_apiserver, kubectl, start_fake_apiserver, start_usage_server, usage_server)
from support.watcher import (  # noqa: F401 (fixture)
    LABEL, POD, label, parse_line, patched_values, patches, posted_events, reasons,
    start_watcher, wait_samples, wait_until, watcher_env)

FAILURE_MODES = ["fail", "hang", "garbage", "string", "nan", "missing", "close"]
# The WARN line is written once per run of failures; VERBOSE adds this DEBUG line for each.
USAGE_FAILED = "DEBUG sample failed"


@pytest.fixture
def api(fake_apiserver):
    """The TLS fake (least-privilege token) with default/some-pod accepting, labelled app=echo."""
    fake_apiserver.add_pod(POD, labels={"app": "echo", LABEL: "yes"}, annotations={"note": "kept"})
    return fake_apiserver


def start(start_watcher, api, usage, **variables):
    watcher = start_watcher(watcher_env(api, usage, **variables))
    watcher.wait_logged("watching pod")
    return watcher


def wait_label(watcher, api, value, timeout=3):
    watcher.wait_for(lambda: label(api) == value, timeout, "the label to become %r" % value)


def test_the_label_flips_no_yes_no_with_the_memory_use(api, usage_server, start_watcher):
    usage_server.set(percent=90)
    watcher = start(start_watcher, api, usage_server, MEMORY_PERCENT="75")
    wait_label(watcher, api, "no")
    usage_server.set(percent=30)
    wait_label(watcher, api, "yes")
    usage_server.set(percent=90)
    wait_label(watcher, api, "no")
    watcher.wait_for(lambda: len(reasons(api)) >= 3, 3, "three Events")
    wait_samples(usage_server, 3)
    # The second OverThreshold, identical to the first, counts on it (client-go's correlation).
    assert reasons(api) == ["OverThreshold", "BelowThreshold", "OverThreshold"]
    assert [e["reason"] for e in posted_events(api)] == ["OverThreshold", "BelowThreshold"]
    assert patched_values(api) == ["no", "yes", "no"]  # one write per change, none repeated
    messages = [e["message"] for e in posted_events(api)]
    assert messages[1] == "Accepting new connections. Echo container uses 30%, threshold is 75%"


def test_the_label_is_cached_between_resyncs(api, usage_server, start_watcher):
    """With the default 30 s resync, samples do not re-read the pod."""
    start(start_watcher, api, usage_server)
    wait_samples(usage_server, 6)
    gets = [r for r in api.requests(r"/pods/%s$" % POD) if r["method"] == "GET"]
    assert len(gets) == 1, gets


@pytest.mark.parametrize("how", ["kubectl", "control"])
def test_resync_puts_right_an_outside_change_of_the_label(api, usage_server, start_watcher,
                                                          kubectl, how):
    usage_server.set(percent=90)
    watcher = start(start_watcher, api, usage_server, POD_RESYNC_INTERVAL="0.5")
    wait_label(watcher, api, "no")
    api.clear_requests()
    if how == "kubectl":  # returns once the API server has taken the change
        kubectl(api, "label", "pod", POD, "%s=yes" % LABEL, "--overwrite")
    else:
        api.add_pod(POD, labels={"app": "echo"})  # replaced without the label
    # The watcher may put it right before a poll could see it, so look for its PATCH,
    # not for the outside value.
    watcher.wait_for(lambda: watcher_patches(api), 3, "the watcher to patch again")
    wait_label(watcher, api, "no", timeout=3)  # the pod is re-read every 0.5 s
    assert watcher.logged("the label was changed outside the watcher")


def watcher_patches(api):
    return [r for r in patches(api) if "kubectl" not in r["headers"].get("user-agent", "")]


def test_a_held_patch_does_not_stop_sampling_and_the_latest_decision_is_written_next(
        api, usage_server, start_watcher):
    """The two lanes: samples, counted from the usage server's own log, go on at the
    interval while the API server holds a patch."""
    usage_server.set(percent=30)
    watcher = start(start_watcher, api, usage_server, CHECKING_INTERVAL="0.2", API_TIMEOUT="10")
    wait_samples(usage_server, 2)
    # Two: the copy on the kept-alive connection, given up after a second of silence, and
    # the one sent again on a new connection, which then waits for its answer.
    api.add_faults({"method": "PATCH", "path_regex": r"/pods/%s$" % POD, "delay": 5, "count": 2})
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


def test_a_failure_while_re_reading_the_pod_does_not_stop_the_loop(api, usage_server,
                                                                   start_watcher):
    watcher = start(start_watcher, api, usage_server, POD_RESYNC_INTERVAL="0.2")
    wait_label(watcher, api, "yes")
    api.add_faults({"method": "GET", "path_regex": "/pods/", "status": 500, "count": 2})
    watcher.wait_for(lambda: not api.faults(), 5, "the faults to be used up")
    usage_server.set(percent=90)
    wait_label(watcher, api, "no")


# -- usage failures ---------------------------------------------------------------


def test_keep_policy_keeps_the_label_whichever_way_the_usage_api_fails(api, usage_server,
                                                                     start_watcher):
    """A failed sample never counts as 0 %: a rejecting pod stays `no`, in every mode."""
    usage_server.set(percent=90)
    watcher = start(start_watcher, api, usage_server, USAGE_TIMEOUT="0.2", VERBOSE="true")
    wait_label(watcher, api, "no")
    watcher.wait_for(lambda: posted_events(api), 3, "the OverThreshold Event")
    for mode in FAILURE_MODES:
        failed = len(watcher.logged(USAGE_FAILED))
        usage_server.set(mode=mode)
        watcher.wait_logged(USAGE_FAILED, timeout=5, count=failed + 3)
        assert label(api) == "no", "mode %s changed the label" % mode
        assert reasons(api) == ["OverThreshold"], "mode %s: %s" % (mode, reasons(api))
        assert patched_values(api) == ["no"], "mode %s wrote the label" % mode
    usage_server.set(mode="ok", percent=85)
    wait_samples(usage_server, 2)
    assert reasons(api) == ["OverThreshold"]
    # The loop is alive: a good sample is acted on again.
    usage_server.set(percent=30)
    wait_label(watcher, api, "yes")
    assert watcher.logged("failures_in_row=%d" % (3 * len(FAILURE_MODES)))


def test_reject_policy_sets_no_after_the_threshold_of_failures(api, usage_server,
                                                              start_watcher):
    usage_server.set(percent=30)
    watcher = start(start_watcher, api, usage_server, USAGE_TIMEOUT="0.2", VERBOSE="true",
                    ON_USAGE_FAILURE="reject", USAGE_FAILURE_THRESHOLD="3")
    wait_samples(usage_server, 2)
    for number, mode in enumerate(FAILURE_MODES, 1):
        assert label(api) == "yes"
        mark = len(watcher.lines())
        usage_server.set(mode=mode)
        wait_label(watcher, api, "no", timeout=5)
        watcher.wait_for(lambda: reasons(api).count("UsageUnavailable") == number, 3,
                         "the UsageUnavailable Event for mode %s" % mode)
        # Not before the third failure in a row.
        lines = watcher.lines()[mark:]
        set_no = next(i for i, line in enumerate(lines)
                      if "label set" in line and "label=no" in line)
        failures = [line for line in lines[:set_no] if USAGE_FAILED in line]
        assert len(failures) == 3, (mode, lines[:set_no + 1])
        # A good sample makes it accept again.
        usage_server.set(mode="ok", percent=30)
        wait_label(watcher, api, "yes")
        watcher.wait_for(lambda: reasons(api)[-1:] == ["BelowThreshold"], 3,
                         "a BelowThreshold Event after mode %s" % mode)
    events = [e for e in posted_events(api) if e["reason"] == "UsageUnavailable"]
    assert {e["type"] for e in events} == {"Warning"}
    assert all(e["message"].startswith("Rejecting new connections.") for e in events)


def test_reject_policy_posts_once_while_failures_go_on(api, usage_server, start_watcher):
    watcher = start(start_watcher, api, usage_server, ON_USAGE_FAILURE="reject",
                    USAGE_FAILURE_THRESHOLD="2", VERBOSE="true")
    usage_server.set(mode="fail")
    wait_label(watcher, api, "no")
    watcher.wait_logged("failures_in_row=8", timeout=5)
    assert reasons(api) == ["UsageUnavailable"]
    assert patched_values(api) == ["no"]


def test_failures_must_be_in_a_row_for_reject(api, usage_server, start_watcher):
    """Failures interrupted by a good sample start counting again."""
    watcher = start(start_watcher, api, usage_server, CHECKING_INTERVAL="0.3", VERBOSE="true",
                    ON_USAGE_FAILURE="reject", USAGE_FAILURE_THRESHOLD="3")
    for turn in (1, 2):
        usage_server.set(mode="fail")
        watcher.wait_logged("failures_in_row=2", count=turn)
        usage_server.set(mode="ok")
        wait_samples(usage_server, 1)
    wait_samples(usage_server, 1)
    assert len(watcher.logged(USAGE_FAILED)) >= 4
    assert not watcher.logged("failures_in_row=3")
    assert label(api) == "yes"
    assert reasons(api) == []


# -- API errors on the write ---------------------------------------------------------


def pod_requests(api):
    return [r for r in api.requests(r"/pods/%s$" % POD)]


@pytest.mark.parametrize("status,retry_after,count", [(409, None, 2), (429, 2, 1), (503, None, 2),
                                                      (503, 1, 1)])
def test_a_failed_write_is_retried_while_sampling_goes_on(api, usage_server, start_watcher,
                                                          status, retry_after, count):
    usage_server.set(percent=30)
    watcher = start(start_watcher, api, usage_server)
    api.add_faults({"method": "PATCH", "path_regex": "/pods/%s$" % POD, "status": status,
                    "retry_after": retry_after, "count": count})
    usage_server.set(percent=90)
    wait_until(lambda: patches(api), 3, "the first write")
    samples_before = usage_server.state()["usage_requests"]
    wait_label(watcher, api, "no", timeout=6)
    samples = usage_server.state()["usage_requests"] - samples_before
    writes = patches(api)
    assert [w["status"] for w in writes] == [status] * count + [200]
    assert all(w["body"] == {"metadata": {"labels": {LABEL: "no"}}} for w in writes)
    gaps = [b["time"] - a["time"] for a, b in zip(writes, writes[1:])]
    if retry_after:
        assert all(gap >= retry_after - 0.05 for gap in gaps), gaps  # Retry-After honoured
        assert samples >= 5 * retry_after, "only %d samples while the write waited" % samples
    else:
        assert all(gap < 1.6 for gap in gaps), gaps  # backed off, not waiting for a resync
    if status == 409:
        # A conflict means someone else wrote: the pod is read again before the next write.
        requests = pod_requests(api)
        first_conflict = requests.index(next(r for r in requests if r["status"] == 409))
        assert "GET" in [r["method"] for r in requests[first_conflict:]
                         if r["time"] < writes[1]["time"]]
    watcher.wait_for(lambda: reasons(api) == ["OverThreshold"], 3, "one OverThreshold Event")


def test_the_latest_decision_wins_while_a_write_is_pending(api, usage_server, start_watcher):
    usage_server.set(percent=30)
    watcher = start(start_watcher, api, usage_server)
    api.add_faults({"method": "PATCH", "status": 503, "retry_after": 1, "count": 1})
    usage_server.set(percent=90)
    wait_until(lambda: patches(api), 3, "the failed write of no")
    failed_at = time.monotonic()
    usage_server.set(percent=30)  # the decision is `yes` again before the retry is due
    wait_samples(usage_server, 3)
    assert time.monotonic() - failed_at < 0.9, "too slow to test: the retry may have gone out"
    time.sleep(max(0, failed_at + 1.8 - time.monotonic()))  # past the retry's due time
    assert [w["status"] for w in patches(api)] == [503], "the stale `no` was written after all"
    assert label(api) == "yes"
    assert reasons(api) == []
    # Writing still works afterwards.
    usage_server.set(percent=90)
    wait_label(watcher, api, "no")


def test_a_dropped_connection_on_the_write_is_retried(api, usage_server, start_watcher):
    usage_server.set(percent=30)
    watcher = start(start_watcher, api, usage_server)
    api.add_faults({"method": "PATCH", "drop": True, "count": 1})
    usage_server.set(percent=90)
    wait_label(watcher, api, "no", timeout=5)
    assert [w["status"] for w in patches(api)] == ["dropped", 200]


# -- what a write looks like ----------------------------------------------------------------


def test_writes_are_merge_patches_of_the_label_only(api, usage_server, start_watcher):
    usage_server.set(percent=90)
    watcher = start(start_watcher, api, usage_server)
    wait_label(watcher, api, "no")
    usage_server.set(percent=30)
    wait_label(watcher, api, "yes")
    watcher.wait_for(lambda: len(posted_events(api)) == 2, 3, "two Events")
    writes = patches(api)
    assert [w["body"] for w in writes] == [{"metadata": {"labels": {LABEL: "no"}}},
                                           {"metadata": {"labels": {LABEL: "yes"}}}]
    for write in writes:
        media_type = write["headers"]["content-type"].split(";")[0].strip()
        assert media_type == "application/merge-patch+json", write["headers"]
        assert write["path"] == "/api/v1/namespaces/default/pods/%s" % POD
    methods = {(r["method"], r["path"]) for r in api.requests()}
    assert methods <= {("GET", "/api/v1/namespaces/default/pods/some-pod"),
                       ("PATCH", "/api/v1/namespaces/default/pods/some-pod"),
                       ("POST", "/api/v1/namespaces/default/events")}, methods
    assert not [r for r in api.requests() if r["method"] == "PUT"]
    pod = api.pod(POD)
    assert pod["metadata"]["labels"] == {"app": "echo", LABEL: "yes"}
    assert pod["metadata"]["annotations"] == {"note": "kept"}


# -- logs ----------------------------------------------------------------------------------


def test_log_lines_and_the_transition_with_percent_and_threshold(api, usage_server,
                                                                 start_watcher):
    usage_server.set(percent=80)
    watcher = start(start_watcher, api, usage_server, MEMORY_PERCENT="75")
    wait_label(watcher, api, "no")
    watcher.wait_for(lambda: posted_events(api), 3, "the Event")
    watcher.stop()
    lines = watcher.lines()
    malformed = [line for line in lines if parse_line(line) is None]
    assert malformed == [], malformed
    # The stop writes `no` again (its own line, reason=Terminating): not a transition.
    transitions = [parse_line(line) for line in lines if "label=no" in line and "reason=Terminating" not in line]
    assert len(transitions) == 1, transitions
    _, level, _, fields = transitions[0]
    assert level == "INFO"
    assert float(fields.get("percent", "nan")) == 80, fields
    assert float(fields.get("threshold", "nan")) == 75, fields


@pytest.mark.parametrize("verbose", ["-v", "VERBOSE", None])
def test_verbose_logs_every_sample(api, usage_server, start_watcher, verbose):
    env = watcher_env(api, usage_server, VERBOSE="true" if verbose == "VERBOSE" else None)
    watcher = start_watcher(env, *(["-v"] if verbose == "-v" else []))
    watcher.wait_logged("watching pod")
    wait_samples(usage_server, 3)
    watcher.stop()
    # Transitions carry percent= too; the per-sample lines are the "sample" ones.
    samples = [s for s in map(parse_line, watcher.lines()) if s and s[2] == "sample"]
    if verbose:
        assert len(samples) >= 3
        assert all(s[1] == "DEBUG" and s[3].get("percent") == "50" for s in samples)
    else:
        assert samples == []

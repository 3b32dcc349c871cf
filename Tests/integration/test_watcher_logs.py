"""Logs: LOG_FORMAT=json writes one object per line; LOG_LEVEL leaves out the
less severe lines; a failure repeated every check is logged once, then once a
minute, then once when it recovers; messages that say what to do (a Usage API
404, a missing pod).
"""
import json
import re
import time

import pytest

from support.servers import (  # noqa: F401 (fixtures)
    fake_apiserver, start_fake_apiserver, start_usage_server, usage_server)
from support.watcher import (  # noqa: F401 (fixture)
    LABEL, POD, label, parse_line, posted_events, run_watcher, start_watcher, wait_samples,
    wait_until, watcher_env)

MILLISECOND_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


@pytest.fixture
def api(fake_apiserver):
    fake_apiserver.add_pod(POD, labels={LABEL: "yes"})
    return fake_apiserver


def start(start_watcher, api, usage, *args, **variables):
    watcher = start_watcher(watcher_env(api, usage, **variables), *args)
    watcher.wait_for(lambda: "watching pod" in watcher.stderr(), 5, "the pod to be watched")
    return watcher


# -- formats and levels ------------------------------------------------------------


@pytest.mark.parametrize("how", ["LOG_FORMAT", "--log-format"])
def test_json_format_writes_one_object_per_line(api, usage_server, start_watcher, how):
    usage_server.set(percent=80)
    args = ["--log-format", "json"] if how == "--log-format" else []
    watcher = start(start_watcher, api, usage_server, *args, MEMORY_PERCENT="75", VERBOSE="true",
                    LOG_FORMAT="json" if how == "LOG_FORMAT" else None)
    watcher.wait_for(lambda: label(api) == "no", 3, "the label to become no")
    watcher.wait_for(lambda: posted_events(api), 3, "the Event")
    usage_server.set(mode="fail")
    wait_samples(usage_server, 2)
    watcher.stop()
    objects = [json.loads(line) for line in watcher.lines()]  # every line parses
    assert len(objects) >= 5, objects
    for entry in objects:
        assert list(entry)[:3] == ["time", "level", "msg"], entry
        assert MILLISECOND_UTC.fullmatch(entry["time"]), entry
        assert entry["level"] in ("debug", "info", "warn", "error"), entry
        assert all(isinstance(value, str) for value in entry.values()), entry
    levels = {entry["level"] for entry in objects}
    assert {"debug", "info", "warn"} <= levels, levels
    # The stop's own write of `no` (reason Terminating) is not the transition.
    label_set = [entry for entry in objects if entry["msg"] == "label set" and entry["label"] == "no"
                 and entry.get("reason") != "Terminating"]
    assert len(label_set) == 1, objects
    assert label_set[0]["percent"] == "80" and label_set[0]["threshold"] == "75"
    # A field with quotes and spaces comes through whole.
    assert label_set[0]["message"] == ("Rejecting new connections. "
                                       "Echo container uses 80%, threshold is 75%")


def test_logfmt_timestamps_have_milliseconds(api, usage_server, start_watcher):
    watcher = start(start_watcher, api, usage_server)
    watcher.stop()
    parsed = [parse_line(line) for line in watcher.lines()]
    assert parsed and None not in parsed, watcher.lines()
    assert all(MILLISECOND_UTC.fullmatch(entry[0]) for entry in parsed)


@pytest.mark.parametrize("how", ["LOG_LEVEL", "--log-level"])
def test_log_level_warn_leaves_out_info_lines(api, usage_server, start_watcher, how):
    usage_server.set(percent=90)
    env = watcher_env(api, usage_server, LOG_LEVEL="warn" if how == "LOG_LEVEL" else None)
    watcher = start_watcher(env, *(["--log-level", "warn"] if how == "--log-level" else []))
    watcher.wait_for(lambda: label(api) == "no", 3, "the label to become no")  # an INFO line, hidden
    usage_server.set(mode="fail")
    watcher.wait_for(lambda: watcher.lines(), 3, "the Usage API warning")
    watcher.stop()  # "stopping" and "stopped" are INFO too
    levels = [parse_line(line)[1] for line in watcher.lines()]
    assert levels == ["WARN"], watcher.lines()


# -- repeated warnings ------------------------------------------------------------


def usage_lines(watcher):
    return [parse_line(line) for line in watcher.lines() if "Usage API" in line]


def test_a_usage_api_down_for_3_minutes_writes_a_handful_of_lines(api, usage_server,
                                                                 start_watcher):
    """At a 0.1 s interval, 3 minutes of failures are ~1800 samples: one WARN, one
    summary a minute, then one INFO line with the count and the time it was down."""
    watcher = start(start_watcher, api, usage_server)
    wait_samples(usage_server, 3)
    before = usage_server.state()["usage_requests"]
    usage_server.set(mode="fail")
    time.sleep(180)
    failed = usage_server.state()["usage_requests"] - before
    usage_server.set(mode="ok")
    watcher.wait_for(lambda: any(line[2] == "the Usage API answers again"
                                 for line in usage_lines(watcher)), 3, "the recovery line")
    watcher.stop()
    lines = usage_lines(watcher)
    assert failed > 500, failed  # the watcher kept sampling at its interval
    assert 3 <= len(lines) <= 6, lines
    first, summaries, recovery = lines[0], lines[1:-1], lines[-1]
    assert first[1] == "WARN" and first[2] == "the Usage API failed; keeping the last decision"
    assert first[3]["failures_in_row"] == "1"
    assert "HTTP 500" in first[3]["error"]
    assert 2 <= len(summaries) <= 3, summaries
    for number, (_, level, message, fields) in enumerate(summaries, 1):
        assert level == "WARN" and message == "the Usage API is still failing", summaries
        assert "HTTP 500" in fields["error"]
        assert int(fields["failures_in_row"]) > 300 * number, fields
        assert 59 <= float(fields["failing_for"].rstrip("s")) - 60 * (number - 1) <= 75, fields
    _, level, message, fields = recovery
    assert (level, message) == ("INFO", "the Usage API answers again")
    assert abs(int(fields["failures"]) - failed) <= 2, (fields, failed)
    assert 179 <= float(fields["failed_for"].rstrip("s")) <= 185, fields
    assert len(watcher.lines()) <= 12, watcher.lines()


def test_re_reading_the_pod_warns_once_then_says_when_it_works_again(api, usage_server,
                                                                     start_watcher):
    watcher = start(start_watcher, api, usage_server, POD_RESYNC_INTERVAL="0.2")
    api.add_faults({"method": "GET", "path_regex": "/pods/", "status": 500, "count": 8})
    watcher.wait_for(lambda: not api.faults(), 10, "the faults to be used up")
    line = watcher.wait_for(lambda: [parse_line(l) for l in watcher.logged("the pod can be read again")],
                            3, "the recovery line")[0]
    watcher.stop()
    assert len(watcher.logged("re-reading the pod")) == 1, watcher.lines()
    assert line[1] == "INFO" and line[3]["failures"] == "8", line


# -- messages that say what to do ------------------------------------------------------


def test_a_usage_api_404_hints_at_the_soketi_metrics_port(api, usage_server, watcher_bin):
    """soketi answers 404 for /usage on its app port; the Usage API is on port 9601."""
    env = watcher_env(api, usage_server, USAGE_URL=usage_server.url.replace("/usage", "/nowhere"))
    result = run_watcher(watcher_bin, env, "--test", timeout=10)
    assert result.returncode == 1, result.stderr
    warning = next(parse_line(line) for line in result.lines if "Usage API" in line)
    assert "HTTP 404" in warning[3]["error"]
    hint = warning[3].get("hint", "")
    assert "9601" in hint and "SERVER_PORT" in hint and "USAGE_URL" in hint, warning


def test_a_usage_api_500_has_no_port_hint(api, usage_server, watcher_bin):
    usage_server.set(mode="fail")
    result = run_watcher(watcher_bin, watcher_env(api, usage_server), "--test", timeout=10)
    assert result.returncode == 1, result.stderr
    warning = next(parse_line(line) for line in result.lines if "Usage API" in line)
    assert "HTTP 500" in warning[3]["error"] and "hint" not in warning[3], warning


def test_a_missing_pod_hints_at_the_downward_api(fake_apiserver, usage_server, watcher_bin):
    result = run_watcher(watcher_bin, watcher_env(fake_apiserver, usage_server), timeout=10)
    assert result.returncode == 1, result.stderr
    error = next(parse_line(line) for line in result.lines if " ERROR " in line)
    assert "not found" in error[2], error
    hint = error[3].get("hint", "")
    assert "POD_NAME" in hint and "downward API" in hint and "metadata.name" in hint, error

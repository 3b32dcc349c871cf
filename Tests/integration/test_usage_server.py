"""The fake Echo Server Usage API: every mode answers as the watcher's tests expect."""
import http.client
import json
import threading
import time

import pytest

from support.servers import control, start_usage_server, usage_server  # noqa: F401 (fixtures)


def get(server, path="/usage", timeout=5):
    """(status, content type, raw body) on a fresh connection."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return answer.status, answer.getheader("Content-Type"), answer.read()
    finally:
        connection.close()


def memory(server):
    status, _, raw = get(server)
    assert status == 200
    return json.loads(raw)["memory"]


def test_usage_shape_and_arithmetic(usage_server):
    status, content_type, raw = get(usage_server)
    assert status == 200 and content_type == "application/json"
    m = json.loads(raw)["memory"]
    assert set(m) == {"free", "used", "total", "percent"}
    assert all(isinstance(m[k], int) for k in ("free", "used", "total"))
    assert m["percent"] == pytest.approx(50.0)
    assert m["percent"] == m["used"] / m["total"] * 100
    assert m["free"] == m["total"] - m["used"]


def test_set_percent_including_over_100(usage_server):
    usage_server.set(percent=80)
    assert memory(usage_server)["percent"] == pytest.approx(80.0)
    usage_server.set(percent=74.99)
    assert memory(usage_server)["percent"] == pytest.approx(74.99)
    usage_server.set(percent=120)
    m = memory(usage_server)
    assert m["percent"] == pytest.approx(120.0) and m["free"] < 0


def test_a_sequence_answers_one_percent_per_request_then_keeps_the_last(usage_server):
    usage_server.set(sequence=[50, 90, 60])
    assert [memory(usage_server)["percent"] for _ in range(5)] == pytest.approx([50, 90, 60, 60, 60])
    assert usage_server.state()["sequence"] == []
    usage_server.set(sequence=[90, 10])
    usage_server.set(percent=30)  # a fixed percent ends a sequence
    assert memory(usage_server)["percent"] == pytest.approx(30)
    with pytest.raises(RuntimeError, match="sequence"):
        usage_server.set(sequence=[])


@pytest.mark.parametrize("path", ["/health", "/ready"])
def test_health_and_ready_say_ok(usage_server, path):
    assert get(usage_server, path)[::2] == (200, b"OK")


def test_mode_fail_is_500(usage_server):
    usage_server.set(mode="fail")
    assert get(usage_server)[0] == 500


def test_mode_garbage_is_not_json(usage_server):
    usage_server.set(mode="garbage")
    status, _, raw = get(usage_server)
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(raw)


def test_mode_string_sends_percent_as_a_string(usage_server):
    usage_server.set(percent=80, mode="string")
    percent = memory(usage_server)["percent"]
    assert isinstance(percent, str) and float(percent) == pytest.approx(80.0)


def test_mode_nan_sends_the_bare_nan_literal(usage_server):
    usage_server.set(mode="nan")
    raw = get(usage_server)[2]
    assert b'"percent": NaN' in raw
    with pytest.raises(ValueError):
        json.loads(raw, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


def test_mode_missing_drops_percent_only(usage_server):
    usage_server.set(mode="missing")
    assert set(memory(usage_server)) == {"free", "used", "total"}


def test_mode_close_answers_nothing(usage_server):
    usage_server.set(mode="close")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        get(usage_server)
    usage_server.set(mode="ok")
    assert get(usage_server)[0] == 200


def test_mode_hang_holds_usage_but_not_other_requests(usage_server):
    usage_server.set(mode="hang")
    with pytest.raises(TimeoutError):
        get(usage_server, timeout=0.3)
    answers = []
    waiter = threading.Thread(target=lambda: answers.append(get(usage_server, timeout=10)))
    waiter.start()
    deadline = time.monotonic() + 5
    while usage_server.state()["hanging"] < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert get(usage_server, "/health")[0] == 200  # served while /usage hangs
    assert usage_server.state()["hanging"] == 2
    usage_server.set(mode="ok", percent=60)
    waiter.join(5)
    assert answers and answers[0][0] == 200
    assert json.loads(answers[0][2])["memory"]["percent"] == pytest.approx(60.0)


def test_wave_alternates_low_and_high(usage_server):
    usage_server.set(wave={"low": 40, "high": 90, "period": 0.4})
    seen = set()
    deadline = time.monotonic() + 2
    while len(seen) < 2 and time.monotonic() < deadline:
        seen.add(round(memory(usage_server)["percent"]))
        time.sleep(0.05)
    assert seen == {40, 90}
    usage_server.set(percent=70)  # a fixed percent ends the wave
    assert usage_server.state()["wave"] is None
    assert memory(usage_server)["percent"] == pytest.approx(70.0)


def test_delay_slows_every_answer(usage_server):
    usage_server.set(delay=0.3)
    started = time.monotonic()
    assert get(usage_server)[0] == 200
    assert time.monotonic() - started >= 0.3


def test_control_counts_usage_requests(usage_server):
    for _ in range(3):
        get(usage_server)
    get(usage_server, "/health")
    state = usage_server.state()
    assert state["usage_requests"] == 3
    assert state["mode"] == "ok" and state["percent"] == 50.0


@pytest.mark.parametrize("body", [{"percent": "80"}, {"mode": "sideways"},
                                  {"wave": {"low": 1, "high": 2, "period": 0}}, [1]])
def test_bad_control_bodies_are_400(usage_server, body):
    with pytest.raises(RuntimeError, match="400"):
        control(usage_server.base + "/control", "POST", body)
    assert usage_server.state()["mode"] == "ok"


def test_keep_alive_serves_several_requests_on_one_connection(usage_server):
    connection = http.client.HTTPConnection("127.0.0.1", usage_server.port, timeout=5)
    for _ in range(3):
        connection.request("GET", "/usage")
        answer = connection.getresponse()
        assert answer.status == 200 and answer.getheader("Content-Length")
        answer.read()
        sock = connection.sock
    assert connection.sock is sock
    connection.close()

"""Connections: keep-alive reuse, reconnect-once, Connection: close, and every timeout.

The raw-byte server decides, request by request, whether to keep, close or hang
the connection, and its log shows what reached it on which connection.
"""
import socket
import time

import pytest

from support.peers import free_port, raw_server, run_client, step  # noqa: F401 (fixture)


def ok(body=b"ok", extra=b""):
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def ok_for(method, body=b"ok"):
    """A 200 for `method`: a HEAD response declares the length but carries no body."""
    response = ok(body)
    return response[:-len(body)] if method == "HEAD" else response


def connection_counts(result):
    return [r["connections"] for r in result.responses]


# ---------------------------------------------------------------- keep-alive

def test_keep_alive_reuses_one_connection(httplite_bin, raw_server):
    server = raw_server()
    server.script([step(ok(b"r%d" % i)) for i in range(5)])
    result = run_client(httplite_bin, "get", server.url("/k"), "--repeat", "5", "--timeout", "5")
    assert [r["body"] for r in result.expect_ok(5)] == ["r0", "r1", "r2", "r3", "r4"]
    assert connection_counts(result) == [1] * 5
    connections, _, _ = server.log()
    assert len(connections) == 1 and len(connections[0].requests) == 5


@pytest.mark.parametrize("then", ["close", "reset"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_reused_connection_closed_while_idle_is_replaced(httplite_bin, raw_server, method, then):
    # The server closes (FIN or RST) right after the first response, without saying
    # Connection: close.
    server = raw_server()
    server.script([step(ok_for(method), then=then), step(ok_for(method))])
    result = run_client(httplite_bin, "get", server.url(), "--method", method,
                        "--repeat", "2", "--timeout", "5")
    result.expect_ok(2)
    assert connection_counts(result) == [1, 2]
    connections, steps_left, unscripted = server.log()
    assert [len(c.requests) for c in connections] == [1, 1] and steps_left == 0 and unscripted == 0


@pytest.mark.parametrize("then", ["close", "reset"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_reused_connection_closed_after_request_is_resent_once(httplite_bin, raw_server, method, then):
    # The server reads the second request on the reused connection, then closes (FIN or
    # RST) without a byte: the client opens a new connection and sends the same request again.
    server = raw_server()
    server.script([step(ok_for(method)), step(b"", then=then), step(ok_for(method, b"again"))])
    result = run_client(httplite_bin, "get", server.url("/idempotent?x=1"), "--method", method,
                        "--repeat", "2", "--timeout", "5")
    result.expect_ok(2)
    assert connection_counts(result) == [1, 2]
    connections, steps_left, unscripted = server.log()
    assert [len(c.requests) for c in connections] == [2, 1]
    assert connections[1].requests[0] == connections[0].requests[1], "the resend is the same request"
    assert connections[1].requests[0].startswith(b"%s /idempotent?x=1 HTTP/1.1\r\n" % method.encode())
    assert (steps_left, unscripted) == (0, 0)


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_request_with_body_is_never_resent(httplite_bin, raw_server, method):
    server = raw_server()
    server.script([step(ok()), step(b"", then="close"), step(ok(b"must not be reached"))])
    result = run_client(httplite_bin, "get", server.url("/write"), "--method", method,
                        "--data", "payload", "--repeat", "2", "--timeout", "5")
    assert len(result.responses) == 1, result.describe()
    result.expect_error("closedEarly")
    connections, steps_left, unscripted = server.log()
    assert [len(c.requests) for c in connections] == [2], "the %s reached the server once" % method
    assert (steps_left, unscripted) == (1, 0)


def test_request_with_body_is_not_resent_after_reset(httplite_bin, raw_server):
    server = raw_server()
    server.script([step(ok()), step(b"", then="reset"), step(ok(b"must not be reached"))])
    result = run_client(httplite_bin, "get", server.url("/write"), "--method", "POST",
                        "--data", "payload", "--repeat", "2", "--timeout", "5")
    assert len(result.responses) == 1, result.describe()
    assert result.error is not None and result.error["error"] in ("closedEarly", "system"), result.describe()
    connections, steps_left, _ = server.log()
    assert [len(c.requests) for c in connections] == [2] and steps_left == 1
    connections, steps_left, unscripted = server.log()
    assert [len(c.requests) for c in connections] == [2], "the %s reached the server once" % method
    assert (steps_left, unscripted) == (1, 0)


def test_reconnect_happens_only_once(httplite_bin, raw_server):
    server = raw_server()
    server.script([step(ok()), step(b"", then="close"), step(b"", then="close"), step(ok())])
    result = run_client(httplite_bin, "get", server.url(), "--repeat", "2", "--timeout", "5")
    assert len(result.responses) == 1, result.describe()
    result.expect_error("closedEarly")
    connections, steps_left, _ = server.log()
    assert [len(c.requests) for c in connections] == [2, 1]
    assert steps_left == 1


def test_fresh_connection_closed_early_is_not_retried(httplite_bin, raw_server):
    server = raw_server()
    server.script([step(b"", then="close"), step(ok())])
    run_client(httplite_bin, "get", server.url(), "--timeout", "5").expect_error("closedEarly")
    connections, steps_left, _ = server.log()
    assert len(connections) == 1 and steps_left == 1


@pytest.mark.parametrize("value", [b"close", b"CLOSE", b"keep-alive, close"])
def test_connection_close_from_server_is_honoured(httplite_bin, raw_server, value):
    # The server says close but keeps the socket open and never reads again: a client
    # that reused it would wait for the deadline.
    server = raw_server()
    server.script([step(ok(extra=b"Connection: " + value + b"\r\n"), then="hang"), step(ok())])
    result = run_client(httplite_bin, "get", server.url(), "--repeat", "2", "--timeout", "3")
    result.expect_ok(2)
    assert connection_counts(result) == [1, 2]


def test_http10_response_without_keep_alive_is_not_reused(httplite_bin, raw_server):
    server = raw_server()
    server.script([step(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", then="hang"), step(ok())])
    result = run_client(httplite_bin, "get", server.url(), "--repeat", "2", "--timeout", "3")
    result.expect_ok(2)
    assert connection_counts(result) == [1, 2]


def test_connection_close_from_client_is_honoured(httplite_bin, raw_server):
    server = raw_server()
    server.script([step(ok()), step(ok())])
    result = run_client(httplite_bin, "get", server.url(), "--header", "Connection: close",
                        "--repeat", "2", "--timeout", "3")
    result.expect_ok(2)
    assert connection_counts(result) == [1, 2]
    connections, _, _ = server.log()
    assert [len(c.requests) for c in connections] == [1, 1]
    assert b"\r\nconnection: close\r\n" in connections[0].requests[0].lower()


# ---------------------------------------------------------------- timeouts

def test_server_that_never_answers_is_a_read_timeout(httplite_bin, raw_server):
    server = raw_server()
    server.script([step(b"", then="hang")])
    result = run_client(httplite_bin, "get", server.url(), "--timeout", "1")
    result.expect_error("readTimeout")
    assert 0.8 <= result.elapsed < 5, result.describe()
    assert len(server.requests()) == 1, "the request was written before the wait"


def test_server_silent_after_headers_is_a_read_timeout(httplite_bin, raw_server):
    server = raw_server()
    server.script([step(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", then="hang")])
    result = run_client(httplite_bin, "get", server.url(), "--timeout", "1")
    result.expect_error("readTimeout")
    assert result.elapsed < 5, result.describe()


def test_slow_drip_past_the_deadline_is_a_read_timeout(httplite_bin, raw_server):
    # One byte every 100 ms: every single read succeeds quickly, so only a deadline for
    # the whole request (not one per read) ends this before the 10 s the drip takes.
    wire = ok(b"d" * 60)
    server = raw_server()
    server.script([step(wire, piece=1, delay=0.1, then="close")])
    result = run_client(httplite_bin, "get", server.url(), "--timeout", "1.5")
    result.expect_error("readTimeout")
    assert 1.2 <= result.elapsed < 5, result.describe()


def test_slow_drip_within_the_deadline_succeeds(httplite_bin, raw_server):
    wire = ok(b"d" * 20)
    server = raw_server()
    server.script([step(wire, piece=1, delay=0.02)])
    response = run_client(httplite_bin, "get", server.url(), "--timeout", "10").expect_ok()[0]
    assert response["body"] == "d" * 20


def test_timeout_is_per_request_on_a_reused_connection(httplite_bin, raw_server):
    # Each request takes ~0.6 s with --timeout 1.5: the three together exceed 1.5 s, which
    # must not matter when each request has its own deadline.
    wire = ok(b"slow")
    server = raw_server()
    server.script([step(wire, split_at=[len(wire) - 2], delay=0.6) for _ in range(3)])
    result = run_client(httplite_bin, "get", server.url(), "--repeat", "3", "--timeout", "1.5")
    result.expect_ok(3)


def test_server_that_never_reads_is_a_write_timeout(httplite_bin, raw_server):
    # The smallest receive window and a server that reads nothing: the kernel buffers
    # (1.7 MiB on loopback, measured) fill and the client's write blocks. argv carries the
    # request: 40 headers of 117 KiB (one argument may be at most 128 KiB, all of argv at
    # most 6 MiB, and a quarter of the stack limit).
    server = raw_server(rcvbuf=1)
    server.script([step(read=False, then="hang")])
    headers = []
    for i in range(40):
        headers += ["--header", "X-Fill-%02d: %s" % (i, "f" * 120000)]
    result = run_client(httplite_bin, "get", server.url(), "--timeout", "2", *headers,
                        stack_limit=64 * 1024 * 1024)
    result.expect_error("writeTimeout")
    assert 1.5 <= result.elapsed < 10, result.describe()


@pytest.fixture
def full_listener():
    """A 127.0.0.1 listener with backlog 0 whose accept queue is full: SYNs to it are dropped."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
            time.sleep(0.05)
        probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.settimeout(0.5)
        try:
            probe.connect(("127.0.0.1", port))
            pytest.skip("a connect to a full backlog-0 listener completed here: "
                        "a connect timeout cannot be produced on loopback")
        except socket.timeout:
            pass
        finally:
            probe.close()
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def test_connect_to_full_listener_is_a_connect_timeout(httplite_bin, full_listener):
    result = run_client(httplite_bin, "get", "http://127.0.0.1:%d/" % full_listener,
                        "--connect-timeout", "1", "--timeout", "30")
    result.expect_error("connectTimeout")
    assert 0.8 <= result.elapsed < 5, result.describe()


def test_connect_to_closed_port_is_refused(httplite_bin):
    result = run_client(httplite_bin, "get", "http://127.0.0.1:%d/" % free_port(), "--timeout", "5")
    result.expect_error("refused")
    assert result.elapsed < 5

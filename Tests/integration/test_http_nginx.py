"""Against nginx from Debian's packages: plain and TLS, keep-alive, large and chunked bodies, HEAD.

nginx logs `$connection $connection_requests` for every request, so reuse of
one connection is read from the server's own access log, not only from the client.
"""
import pytest

from support.peers import header_values, nginx, run_client, tls_pki  # noqa: F401 (fixtures)


def get(binary, url, *args):
    return run_client(binary, "get", url, "--timeout", "20", *args, timeout=60)


def tls_args(tls_pki):
    return ["--ca", tls_pki["ca"].cert]


@pytest.fixture(params=[False, True], ids=["http", "https"])
def tls(request):
    return request.param


def scheme_args(tls, tls_pki):
    return tls_args(tls_pki) if tls else []


def test_get_small_file(httplite_bin, nginx, tls, tls_pki):
    response = get(httplite_bin, nginx.url("/index.html", tls=tls), *scheme_args(tls, tls_pki)).expect_ok()[0]
    assert response["status"] == 200
    assert response["body"] == "hello from nginx\n"
    assert header_values(response, "Server")[0].startswith("nginx")
    assert header_values(response, "Content-Length") == ["17"]


def test_large_body_is_received_exactly(httplite_bin, nginx, tls, tls_pki):
    expected = nginx.files["/big.txt"]
    response = get(httplite_bin, nginx.url("/big.txt", tls=tls), *scheme_args(tls, tls_pki)).expect_ok()[0]
    assert response["bodyLength"] == len(expected) == 3 * 1024 * 1024
    assert response["body"].encode() == expected


def test_body_over_default_limit_is_too_large(httplite_bin, nginx):
    get(httplite_bin, nginx.url("/huge.txt")).expect_error("tooLarge")


def test_max_body_raises_the_limit(httplite_bin, nginx):
    expected = nginx.files["/huge.txt"]
    response = get(httplite_bin, nginx.url("/huge.txt"), "--max-body", str(6 * 1024 * 1024)).expect_ok()[0]
    assert response["bodyLength"] == len(expected)
    assert response["body"].encode() == expected


def test_keep_alive_many_requests_one_connection(httplite_bin, nginx, tls, tls_pki):
    count = 50
    mark = nginx.log_mark()
    result = get(httplite_bin, nginx.url("/index.html?keepalive", tls=tls), *scheme_args(tls, tls_pki),
                 "--repeat", count)
    responses = result.expect_ok(count)
    assert [r["connections"] for r in responses] == [1] * count
    assert all(r["body"] == "hello from nginx\n" for r in responses)
    entries = [e for e in nginx.log_since(mark) if e["uri"] == "/index.html?keepalive"]
    assert len(entries) == count
    assert len({e["connection"] for e in entries}) == 1, "nginx saw more than one connection"
    assert [int(e["requests"]) for e in entries] == list(range(1, count + 1))


def test_keep_alive_with_large_bodies(httplite_bin, nginx, tls, tls_pki):
    mark = nginx.log_mark()
    responses = get(httplite_bin, nginx.url("/big.txt", tls=tls), *scheme_args(tls, tls_pki),
                    "--repeat", "3").expect_ok(3)
    assert [r["connections"] for r in responses] == [1, 1, 1]
    assert all(r["bodyLength"] == len(nginx.files["/big.txt"]) for r in responses)
    assert len({e["connection"] for e in nginx.log_since(mark)}) == 1


def test_head_has_no_body_and_keeps_the_connection(httplite_bin, nginx, tls, tls_pki):
    mark = nginx.log_mark()
    responses = get(httplite_bin, nginx.url("/big.txt", tls=tls), *scheme_args(tls, tls_pki),
                    "--method", "HEAD", "--repeat", "3").expect_ok(3)
    for response in responses:
        assert response["status"] == 200 and response["bodyLength"] == 0 and response["body"] == ""
        assert header_values(response, "Content-Length") == [str(3 * 1024 * 1024)]
    assert [r["connections"] for r in responses] == [1, 1, 1]
    entries = nginx.log_since(mark)
    assert [e["method"] for e in entries] == ["HEAD"] * 3
    assert len({e["connection"] for e in entries}) == 1


def test_chunked_response(httplite_bin, nginx, tls, tls_pki):
    # SSI output has no length known in advance: nginx sends it chunked.
    uri = "/ssi/page.html"
    responses = get(httplite_bin, nginx.url(uri, tls=tls), *scheme_args(tls, tls_pki),
                    "--repeat", "3").expect_ok(3)
    expected = nginx.ssi_body(uri)
    for response in responses:
        assert [v.lower() for v in header_values(response, "Transfer-Encoding")] == ["chunked"]
        assert header_values(response, "Content-Length") == []
        assert response["body"].encode() == expected
    assert [r["connections"] for r in responses] == [1, 1, 1]


def test_request_body_and_headers_reach_nginx(httplite_bin, nginx, tls, tls_pki):
    # nginx reads and discards the body; were its length wrong, the next request on the
    # connection would start inside it and nginx would answer 400.
    mark = nginx.log_mark()
    responses = get(httplite_bin, nginx.url("/echo?a=1", tls=tls), *scheme_args(tls, tls_pki),
                    "--method", "POST", "--data", "hello body", "--header", "X-Test: yes",
                    "--repeat", "3").expect_ok(3)
    port = nginx.tls_port if tls else nginx.port
    for response in responses:
        assert response["status"] == 200
        assert response["body"] == "method=POST host=127.0.0.1:%d cl=10 x=yes uri=/echo?a=1\n" % port
    assert [r["connections"] for r in responses] == [1, 1, 1]
    assert [e["status"] for e in nginx.log_since(mark)] == ["200"] * 3


def test_ipv6_host_header_reaches_nginx(httplite_bin, nginx, tls, tls_pki):
    port = nginx.tls_port if tls else nginx.port
    response = get(httplite_bin, nginx.url("/echo", tls=tls, host="::1"),
                   *scheme_args(tls, tls_pki)).expect_ok()[0]
    assert response["body"] == "method=GET host=[::1]:%d cl= x= uri=/echo\n" % port


def test_localhost_over_tls_verifies_the_name(httplite_bin, nginx, tls_pki):
    response = get(httplite_bin, nginx.url("/echo", tls=True, host="localhost"),
                   *tls_args(tls_pki)).expect_ok()[0]
    assert response["body"] == "method=GET host=localhost:%d cl= x= uri=/echo\n" % nginx.tls_port


def test_not_found_is_a_response_not_an_error(httplite_bin, nginx):
    response = get(httplite_bin, nginx.url("/missing")).expect_ok()[0]
    assert response["status"] == 404
    assert "404 Not Found" in response["body"]


def test_connection_close_from_nginx_is_honoured(httplite_bin, nginx, tls, tls_pki):
    # keepalive_timeout 0 in /close/: nginx answers "Connection: close" and closes.
    mark = nginx.log_mark()
    responses = get(httplite_bin, nginx.url("/close/index.html", tls=tls), *scheme_args(tls, tls_pki),
                    "--repeat", "3").expect_ok(3)
    for response in responses:
        assert [v.lower() for v in header_values(response, "Connection")] == ["close"]
        assert response["body"] == "hello from nginx\n"
    assert [r["connections"] for r in responses] == [1, 2, 3]
    assert len({e["connection"] for e in nginx.log_since(mark)}) == 3


def test_nginx_with_wrong_ca_fails_verification(httplite_bin, nginx, tls_pki):
    detail = get(httplite_bin, nginx.url("/", tls=True), "--ca", tls_pki["other_ca"].cert).expect_error("certificateRejected")
    assert "certificate verify failed" in detail

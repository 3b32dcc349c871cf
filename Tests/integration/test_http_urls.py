"""URLs, name resolution and the request as written on the wire.

The raw-byte server records each request's exact bytes, so the request line,
the Host header and the body are asserted as sent.
"""
import os
import socket
import subprocess

import pytest

from support.peers import raw_server, run_client, step, tls_pki  # noqa: F401 (fixtures)

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def head_lines(request):
    """The request line and header lines of one recorded request."""
    return request.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def header(request, name):
    values = [line.split(b":", 1)[1].strip() for line in head_lines(request)[1:]
              if line.split(b":", 1)[0].lower() == name.lower()]
    return values


def one_request(binary, server, url, *args):
    server.script([step(OK)])
    run_client(binary, "get", url, "--timeout", "5", *args).expect_ok()
    requests = server.requests()
    assert len(requests) == 1
    return requests[0]


# ---------------------------------------------------------------- request line and Host

@pytest.mark.parametrize("suffix,target", [
    ("", b"/"),
    ("/", b"/"),
    ("/a/b/c.txt", b"/a/b/c.txt"),
    ("/search?q=swift&page=2", b"/search?q=swift&page=2"),
    ("/p%20q?x=%2F", b"/p%20q?x=%2F"),
    ("?only=query", b"/?only=query"),
])
def test_path_and_query_form_the_request_target(httplite_bin, raw_server, suffix, target):
    server = raw_server()
    request = one_request(httplite_bin, server, "http://127.0.0.1:%d%s" % (server.port, suffix))
    assert head_lines(request)[0] == b"GET " + target + b" HTTP/1.1"
    assert header(request, b"Host") == [b"127.0.0.1:%d" % server.port]


def test_ipv6_literal_is_bracketed_in_host(httplite_bin, raw_server):
    server = raw_server(host="::1")
    request = one_request(httplite_bin, server, "http://[::1]:%d/v6?x=1" % server.port)
    assert head_lines(request)[0] == b"GET /v6?x=1 HTTP/1.1"
    assert header(request, b"Host") == [b"[::1]:%d" % server.port]
    assert server.log()[0][0].peer[0] == "::1"


def test_ipv6_literal_in_long_form(httplite_bin, raw_server):
    server = raw_server(host="::1")
    request = one_request(httplite_bin, server, "http://[0:0:0:0:0:0:0:1]:%d/" % server.port)
    assert header(request, b"Host") == [b"[0:0:0:0:0:0:0:1]:%d" % server.port]


def test_localhost_host_header_keeps_the_name(httplite_bin, raw_server):
    server = raw_server()
    request = one_request(httplite_bin, server, "http://localhost:%d/" % server.port)
    assert header(request, b"Host") == [b"localhost:%d" % server.port]


def bind_or_skip(raw_server, port, **options):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            pytest.skip("cannot listen on 127.0.0.1:%d here (%s)" % (port, error))
    return raw_server(port=port, **options)


@pytest.mark.parametrize("url", ["http://127.0.0.1/default", "http://127.0.0.1:80/default"])
def test_default_http_port_is_left_out_of_host(httplite_bin, raw_server, url):
    server = bind_or_skip(raw_server, 80)
    request = one_request(httplite_bin, server, url)
    assert head_lines(request)[0] == b"GET /default HTTP/1.1"
    assert header(request, b"Host") == [b"127.0.0.1"]


def test_default_https_port_is_left_out_of_host(httplite_bin, raw_server, tls_pki):
    server = bind_or_skip(raw_server, 443, tls=tls_pki["server"])
    request = one_request(httplite_bin, server, "https://localhost/tls", "--ca", tls_pki["ca"].cert)
    assert header(request, b"Host") == [b"localhost"]


def test_http_port_443_is_not_a_default(httplite_bin, raw_server):
    server = bind_or_skip(raw_server, 443)
    request = one_request(httplite_bin, server, "http://127.0.0.1:443/")
    assert header(request, b"Host") == [b"127.0.0.1:443"]


# ---------------------------------------------------------------- method, headers, body

def test_body_is_sent_with_its_content_length(httplite_bin, raw_server):
    server = raw_server()
    request = one_request(httplite_bin, server, server.url("/items"),
                          "--method", "POST", "--data", '{"name":"héllo"}')
    body = '{"name":"héllo"}'.encode()
    assert head_lines(request)[0] == b"POST /items HTTP/1.1"
    assert header(request, b"Content-Length") == [b"%d" % len(body)], "bytes, not characters"
    assert request.endswith(b"\r\n\r\n" + body)
    assert header(request, b"Transfer-Encoding") == []


def test_method_and_extra_headers_are_sent(httplite_bin, raw_server):
    server = raw_server()
    request = one_request(httplite_bin, server, server.url("/p"), "--method", "PATCH",
                          "--data", "x", "--header", "X-One: 1",
                          "--header", "Content-Type: application/merge-patch+json")
    assert head_lines(request)[0] == b"PATCH /p HTTP/1.1"
    assert header(request, b"X-One") == [b"1"]
    assert header(request, b"Content-Type") == [b"application/merge-patch+json"]
    assert len(header(request, b"Host")) == 1


def test_request_head_is_crlf_terminated(httplite_bin, raw_server):
    server = raw_server()
    request = one_request(httplite_bin, server, server.url("/"))
    head = request.split(b"\r\n\r\n", 1)[0]
    assert b"\n" not in head.replace(b"\r\n", b""), request
    assert request.endswith(b"\r\n\r\n")


# ---------------------------------------------------------------- URLs that are refused

BAD_URLS = [
    "",
    "127.0.0.1:8080/path",
    "ftp://127.0.0.1/",
    "ws://127.0.0.1/",
    "http:/127.0.0.1/",
    "http://",
    "http:///path",
    "http://:8080/",
    "http://127.0.0.1:99999/",
    "http://127.0.0.1:65536/",
    "http://127.0.0.1:-1/",
    "http://127.0.0.1:12ab/",
    "http://127.0.0.1:80:80/",
    "http://[::1/",
    "http://::1/",
    "http://[::1]x/",
    "http://[not-an-address]/",
    "http://[127.0.0.1]/",
    "http://exa mple.com/",
    "http://127.0.0.1/a\r\nX-Injected: 1",
    "http://127.0.0.1/a\nb",
]


@pytest.mark.parametrize("url", BAD_URLS, ids=[repr(u) for u in BAD_URLS])
def test_bad_url_is_rejected(httplite_bin, url):
    result = run_client(httplite_bin, "get", url, "--timeout", "5", timeout=20)
    result.expect_error("badURL")
    assert result.elapsed < 5


@pytest.mark.parametrize("suffix", ["/a\r\nX-Injected: 1", "/a\x01b", "/a\x7fb"],
                         ids=["crlf", "ctl", "del"])
def test_bad_url_never_reaches_the_server(httplite_bin, raw_server, suffix):
    server = raw_server()
    server.script([step(OK)])
    run_client(httplite_bin, "get", "http://127.0.0.1:%d%s" % (server.port, suffix),
               "--timeout", "5").expect_error("badURL")
    assert server.log()[0] == []


@pytest.mark.parametrize("args", [
    [],
    ["get"],
    ["fetch", "http://127.0.0.1/"],
    ["get", "http://127.0.0.1/", "--no-such-flag"],
    ["get", "http://127.0.0.1/", "--repeat", "many"],
    ["get", "http://127.0.0.1/", "--timeout"],
], ids=["nothing", "no-url", "unknown-command", "unknown-flag", "bad-number", "missing-value"])
def test_bad_command_line_exits_2(httplite_bin, args):
    proc = subprocess.run([httplite_bin, *args], capture_output=True, timeout=20)
    assert proc.returncode == 2, (args, proc)


@pytest.mark.parametrize("option", ["--max-body", "--max-header", "--repeat"])
@pytest.mark.parametrize("text", ["1e19", "9223372036854775808", "inf", "nan", "-1", "1.5", "1e3", " 5", ""])
def test_bad_whole_number_is_a_usage_error_not_a_trap(httplite_bin, option, text):
    # These once went through Int(Double), which traps (SIGILL) on 1e19, inf and nan.
    proc = subprocess.run([httplite_bin, "get", "http://127.0.0.1:9/", option, text],
                          capture_output=True, timeout=20)
    assert proc.returncode == 2, (option, text, proc)
    assert b"%s takes a whole number" % option.encode() in proc.stderr, proc.stderr


# ---------------------------------------------------------------- name resolution

@pytest.fixture(scope="module")
def hosts_sandbox(tmp_path_factory):
    """A wrapper command that runs a program with its own /etc/hosts and `hosts: files` only.

    The hosts file has no `localhost` line, so anything that asks NSS for localhost
    fails inside; `httplite-test.internal` maps to 127.0.0.1 and ::1.
    """
    folder = tmp_path_factory.mktemp("nss")
    hosts, nsswitch = folder / "hosts", folder / "nsswitch.conf"
    hosts.write_text("127.0.0.1 httplite-test.internal\n::1 httplite-test.internal\n")
    nsswitch.write_text("hosts: files\n")
    for path in (hosts, nsswitch, folder):
        os.chmod(path, 0o755)
    wrapper = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
               'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/nsswitch.conf'
               ' && shift 2 && exec "$@"', "sh", str(hosts), str(nsswitch)]
    if not (os.path.exists("/etc/hosts") and os.path.exists("/etc/nsswitch.conf")):
        pytest.skip("no /etc/hosts or /etc/nsswitch.conf to replace")
    try:
        check = subprocess.run([*wrapper, "getent", "hosts", "localhost"],
                               capture_output=True, timeout=20)
    except FileNotFoundError:
        pytest.skip("unshare is not installed")
    if check.returncode != 2:
        pytest.skip("cannot hide localhost from NSS in a mount namespace here: %r" % (check,))
    return wrapper


def test_localhost_resolves_without_nss(httplite_bin, raw_server, hosts_sandbox):
    server = raw_server()
    server.script([step(OK)])
    result = run_client(httplite_bin, "get", "http://localhost:%d/" % server.port,
                        "--timeout", "5", wrapper=hosts_sandbox)
    assert result.expect_ok()[0]["body"] == "ok"


def test_localhost_reaches_a_server_on_ipv6_loopback_only(httplite_bin, raw_server, hosts_sandbox):
    server = raw_server(host="::1")
    server.script([step(OK)])
    result = run_client(httplite_bin, "get", "http://localhost:%d/" % server.port,
                        "--timeout", "5", wrapper=hosts_sandbox)
    assert result.expect_ok()[0]["body"] == "ok"


def test_other_names_resolve_through_the_system_resolver(httplite_bin, raw_server, hosts_sandbox):
    server = raw_server()
    server.script([step(OK)])
    result = run_client(httplite_bin, "get", "http://httplite-test.internal:%d/n" % server.port,
                        "--timeout", "5", wrapper=hosts_sandbox)
    result.expect_ok()
    assert header(server.requests()[0], b"Host") == [b"httplite-test.internal:%d" % server.port]


def test_unknown_name_is_a_resolve_error(httplite_bin, hosts_sandbox):
    result = run_client(httplite_bin, "get", "http://no-such-host.invalid:8080/",
                        "--timeout", "5", wrapper=hosts_sandbox)
    result.expect_error("resolve")

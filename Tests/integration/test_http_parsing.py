"""The response parser, driven through the built `httplite` against the scripted raw-byte server.

Every response here is written byte for byte by servers/raw_server.py, so each
test states exactly what arrived on the wire and what the client must make of it.
"""
import pytest

from support.peers import header_values, raw_server, run_client, step  # noqa: F401 (fixture)

# The deadline for responses that are complete: far above what they need, so a
# client that waits for bytes that never come fails with readTimeout, not a hang.
DEADLINE = "5"


def chunked(*chunks, trailers=b""):
    """A chunked body: each chunk is data or (data, extension), then the last chunk and trailers."""
    out = b""
    for chunk in chunks:
        data, ext = chunk if isinstance(chunk, tuple) else (chunk, b"")
        out += b"%x%s\r\n%s\r\n" % (len(data), ext, data)
    return out + b"0\r\n" + trailers + b"\r\n"


CL_RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Split:  yes \t\r\n"
               b"Content-Type: text/plain\r\n\r\nhello")
CHUNKED_RESPONSE = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Split: yes\r\n\r\n"
                    + chunked((b"Wiki", b";name=value"), (b"pedia ", b';q="a;b"'),
                              (b"in\r\n\r\nchunks.", b";x"), b"!",
                              trailers=b"X-Trailer: done\r\nX-Other: 2\r\n"))
CHUNKED_BODY = "Wikipedia in\r\n\r\nchunks.!"
INTERIM_RESPONSE = (b"HTTP/1.1 100 Continue\r\n\r\n"
                    b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Split: yes\r\n\r\nok")
NO_CONTENT_RESPONSE = b"HTTP/1.1 204 No Content\r\nX-Split: yes\r\n\r\n"
NOT_MODIFIED_RESPONSE = b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nX-Split: yes\r\n\r\n"

# (name, bytes on the wire, status, body) of complete responses on a keep-alive connection.
SAMPLES = [
    ("content-length", CL_RESPONSE, 200, "hello"),
    ("chunked-extensions-trailers", CHUNKED_RESPONSE, 200, CHUNKED_BODY),
    ("interim-1xx", INTERIM_RESPONSE, 200, "ok"),
    ("204-no-body", NO_CONTENT_RESPONSE, 204, ""),
    ("304-no-body", NOT_MODIFIED_RESPONSE, 304, ""),
]


def assert_response(response, status, body, connections=1):
    assert response["status"] == status, response
    assert response["body"] == body, response
    assert response["bodyLength"] == len(body.encode()), response
    assert response["connections"] == connections, response


@pytest.mark.parametrize("name,wire,status,body", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_response_split_at_every_byte_boundary(httplite_bin, raw_server, name, wire, status, body):
    # Request k gets the response cut in two writes at index k, 20 ms apart (TCP_NODELAY on
    # the server), so the parser sees every possible first piece; all on one connection,
    # which also proves each response was delimited exactly.
    server = raw_server()
    cuts = range(1, len(wire))
    server.script(step(wire, split_at=[cut], delay=0.02) for cut in cuts)
    result = run_client(httplite_bin, "get", server.url("/split"), "--repeat", len(cuts),
                        "--timeout", DEADLINE, timeout=120)
    if result.error is not None:
        pytest.fail("split at index %d of %r failed:\n%s"
                    % (len(result.responses) + 1, wire, result.describe()))
    for response in result.expect_ok(len(cuts)):
        assert_response(response, status, body)
        assert header_values(response, "X-Split") == ["yes"], response
    connections, steps_left, unscripted = server.log()
    assert (len(connections), steps_left, unscripted) == (1, 0, 0)


@pytest.mark.parametrize("name,wire,status,body", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_response_dripped_one_byte_at_a_time(httplite_bin, raw_server, name, wire, status, body):
    server = raw_server()
    server.script([step(wire, piece=1, delay=0.003), step(wire, piece=1, delay=0.003)])
    result = run_client(httplite_bin, "get", server.url(), "--repeat", "2", "--timeout", "20")
    for response in result.expect_ok(2):
        assert_response(response, status, body)


def test_header_values_are_trimmed_and_names_kept(httplite_bin, raw_server):
    server = raw_server()
    server.script([step(CL_RESPONSE)])
    response = run_client(httplite_bin, "get", server.url(), "--timeout", DEADLINE).expect_ok()[0]
    assert header_values(response, "x-split") == ["yes"]
    assert ["Content-Type", "text/plain"] in response["headers"]


def test_header_value_may_contain_tab_and_obs_text(httplite_bin, raw_server):
    server = raw_server()
    server.script([step(b"HTTP/1.1 200 OK\r\nX-Tab: a\tb\r\nX-Latin: caf\xc3\xa9\r\n"
                        b"Content-Length: 0\r\n\r\n")])
    response = run_client(httplite_bin, "get", server.url(), "--timeout", DEADLINE).expect_ok()[0]
    assert header_values(response, "X-Tab") == ["a\tb"]


def test_empty_reason_phrase_is_accepted(httplite_bin, raw_server):
    server = raw_server()
    server.script([step(b"HTTP/1.1 404 \r\nContent-Length: 1\r\n\r\nx")])
    response = run_client(httplite_bin, "get", server.url(), "--timeout", DEADLINE).expect_ok()[0]
    assert_response(response, 404, "x")


@pytest.mark.parametrize("wire", [
    b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\ntransfer-ENCODING: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n000005\r\nhello\r\n000\r\n\r\n",
], ids=["lower", "upper", "mixed-te", "te", "leading-zeros"])
def test_framing_headers_are_case_insensitive(httplite_bin, raw_server, wire):
    # A second response on the same connection proves the first ended where it should.
    server = raw_server()
    server.script([step(wire), step(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext")])
    first, second = run_client(httplite_bin, "get", server.url(), "--repeat", "2",
                               "--timeout", DEADLINE).expect_ok(2)
    assert_response(first, 200, "hello")
    assert_response(second, 200, "next")


def test_chunk_size_in_upper_case_hex(httplite_bin, raw_server):
    data = b"x" * 0xAB
    server = raw_server()
    server.script([step(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nAB\r\n"
                        + data + b"\r\n0\r\n\r\n")])
    response = run_client(httplite_bin, "get", server.url(), "--timeout", DEADLINE).expect_ok()[0]
    assert_response(response, 200, data.decode())


@pytest.mark.parametrize("ext", [b";a", b";a=b", b' ; a = "x\\"y"', b";a=b;c;d=\"\"", b"\t;\tname\t=\ttoken"],
                         ids=["name", "token-value", "quoted-pair", "several", "tabs"])
def test_valid_chunk_extensions_are_accepted(httplite_bin, raw_server, ext):
    server = raw_server()
    server.script([step(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5" + ext
                        + b"\r\nhello\r\n0\r\n\r\n")])
    response = run_client(httplite_bin, "get", server.url(), "--timeout", DEADLINE).expect_ok()[0]
    assert_response(response, 200, "hello")


CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
# (bytes, where to cut them, --max-header, the error expected whole and cut)
SPLIT_LIMITS = {
    # The trailer section over the header limit: whole, this once completed.
    "trailers-over-limit": (CHUNKED_HEAD + b"2\r\nok\r\n0\r\nX-T: " + b"t" * 300 + b"\r\n\r\n", -10, 200, "tooLarge"),
    # A chunk-size line over 4096 bytes: whole, this once completed too.
    "chunk-line-over-4096": (CHUNKED_HEAD + b"2;a=" + b"v" * 4100 + b"\r\nok\r\n0\r\n\r\n", -12, None, "malformed"),
    # A header line over the limit ending in a bare LF: whole, this was malformed.
    "bare-lf-over-limit": (b"HTTP/1.1 200 OK\r\nX-Big: " + b"b" * 300 + b"\nContent-Length: 0\r\n\r\n", 280, 200, "tooLarge"),
}


@pytest.mark.parametrize("cut", [False, True], ids=["whole", "cut"])
@pytest.mark.parametrize("name", SPLIT_LIMITS.keys())
def test_limits_give_one_answer_however_the_bytes_arrive(httplite_bin, raw_server, name, cut):
    wire, at, max_header, error = SPLIT_LIMITS[name]
    server = raw_server()
    split = {"split_at": [at % len(wire)], "delay": 0.05} if cut else {}
    server.script([step(wire, then="hang", **split)])
    args = ["--max-header", max_header] if max_header else []
    run_client(httplite_bin, "get", server.url(), *args, "--timeout", DEADLINE).expect_error(error)


def test_chunk_size_near_the_largest_int_waits_without_trapping(httplite_bin, raw_server):
    # No limit value may make the parser's arithmetic overflow: with both limits at the
    # largest Int, a chunk of 2^63 - 2 bytes is within them and the client waits for it.
    server = raw_server()
    server.script([step(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7ffffffffffffffe\r\nabc",
                        then="hang")])
    largest = str(2 ** 63 - 1)
    run_client(httplite_bin, "get", server.url(), "--max-body", largest, "--max-header", largest,
               "--timeout", "1").expect_error("readTimeout")


def test_several_interim_responses_are_skipped(httplite_bin, raw_server):
    server = raw_server()
    server.script([step(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
                        b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                        b"HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nnew")])
    response = run_client(httplite_bin, "get", server.url(), "--timeout", DEADLINE).expect_ok()[0]
    assert_response(response, 201, "new")
    assert header_values(response, "Link") == []


@pytest.mark.parametrize("wire", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n\r\n",
], ids=["content-length", "chunked", "no-length"])
def test_head_response_has_no_body(httplite_bin, raw_server, wire):
    # A client that waited for a body would time out, or eat the next response.
    server = raw_server()
    server.script([step(wire), step(wire)])
    responses = run_client(httplite_bin, "get", server.url(), "--method", "HEAD",
                           "--repeat", "2", "--timeout", DEADLINE).expect_ok(2)
    for response in responses:
        assert_response(response, 200, "")
    assert server.requests()[0].startswith(b"HEAD / HTTP/1.1\r\n")


@pytest.mark.parametrize("wire,status", [
    (b"HTTP/1.1 204 No Content\r\n\r\n", 204),
    (b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", 204),
    (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\n\r\n", 304),
    (b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", 304),
], ids=["204", "204-cl0", "304-cl", "304-chunked"])
def test_204_and_304_have_no_body(httplite_bin, raw_server, wire, status):
    server = raw_server()
    server.script([step(wire), step(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext")])
    first, second = run_client(httplite_bin, "get", server.url(), "--repeat", "2",
                               "--timeout", DEADLINE).expect_ok(2)
    assert_response(first, status, "")
    assert_response(second, 200, "next")


@pytest.mark.parametrize("wire", [
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody until close",
    b"HTTP/1.0 200 OK\r\n\r\nbody until close",
], ids=["http11", "http10"])
def test_body_delimited_by_close(httplite_bin, raw_server, wire):
    server = raw_server()
    server.script([step(wire, piece=4, delay=0.01, then="close"),
                   step(wire, then="close")])
    first, second = run_client(httplite_bin, "get", server.url(), "--repeat", "2",
                               "--timeout", DEADLINE).expect_ok(2)
    assert_response(first, 200, "body until close", connections=1)
    assert_response(second, 200, "body until close", connections=2)


# ---------------------------------------------------------------- closed early

@pytest.mark.parametrize("wire", [
    b"",
    b"HTTP/1.1 2",
    b"HTTP/1.1 200 OK\r\nContent-Le",
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: a",
    b"HTTP/1.1 100 Continue\r\n\r\n",
], ids=["nothing", "mid-status-line", "mid-headers", "before-blank-line", "mid-body",
        "mid-chunk", "before-last-chunk", "mid-trailers", "after-interim"])
def test_close_before_the_response_ends_is_closed_early(httplite_bin, raw_server, wire):
    server = raw_server()
    server.script([step(wire, then="close")])
    run_client(httplite_bin, "get", server.url(), "--timeout", DEADLINE).expect_error("closedEarly")


# ---------------------------------------------------------------- malformed

MALFORMED = {
    "conflicting-content-length": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "duplicate-content-length": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    "content-length-list": b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello",
    "content-length-negative": b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nhello",
    "content-length-plus": b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
    "content-length-hex": b"HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\nhello",
    "content-length-empty": b"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\nhello",
    "content-length-trailing-junk": b"HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello",
    "obs-fold": b"HTTP/1.1 200 OK\r\nX-Folded: first\r\n  second\r\nContent-Length: 0\r\n\r\n",
    "obs-fold-tab": b"HTTP/1.1 200 OK\r\nX-Folded: first\r\n\tsecond\r\nContent-Length: 0\r\n\r\n",
    "bare-lf-everywhere": b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
    "bare-lf-status-line": b"HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\nok",
    "bare-lf-header": b"HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 2\r\n\r\nok",
    "bare-lf-end-of-head": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\nok",
    "bare-cr-in-value": b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n",
    "nul-in-value": b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n",
    "nul-in-name": b"HTTP/1.1 200 OK\r\nX-\x00A: ab\r\nContent-Length: 0\r\n\r\n",
    "ctl-0x01-in-value": b"HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 0\r\n\r\n",
    "ctl-0x1f-in-value": b"HTTP/1.1 200 OK\r\nX-A: a\x1fb\r\nContent-Length: 0\r\n\r\n",
    "del-in-value": b"HTTP/1.1 200 OK\r\nX-A: a\x7fb\r\nContent-Length: 0\r\n\r\n",
    "nul-in-status-line": b"HTTP/1.1 200 O\x00K\r\nContent-Length: 0\r\n\r\n",
    "no-colon": b"HTTP/1.1 200 OK\r\nNoColonHere\r\nContent-Length: 0\r\n\r\n",
    "empty-name": b"HTTP/1.1 200 OK\r\n: value\r\nContent-Length: 0\r\n\r\n",
    "space-in-name": b"HTTP/1.1 200 OK\r\nX A: value\r\nContent-Length: 0\r\n\r\n",
    "status-two-digits": b"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
    "status-four-digits": b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
    "status-letters": b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n",
    "no-space-after-version": b"HTTP/1.1200 OK\r\nContent-Length: 0\r\n\r\n",
    "not-http": b"ICY 200 OK\r\nContent-Length: 0\r\n\r\n",
    "http-2-version": b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
    "lower-case-version": b"http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    "chunk-size-not-hex": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "chunk-size-negative": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
    "chunk-size-empty": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n",
    "chunk-data-longer-than-size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n",
    "chunk-bare-lf": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n",
    "chunk-size-trailing-blanks": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n25  \r\n" + b"x" * 0x25 + b"\r\n0\r\n\r\n",
    "chunk-ext-no-name": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;\r\nok\r\n0\r\n\r\n",
    "chunk-ext-unbalanced-quote": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   b'5;a="abc";b="def; ghi\r\nhello\r\n0\r\n\r\n'),
    "chunk-ext-bad-quoted-pair": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  b'5;a="x\\\x01"\r\nhello\r\n0\r\n\r\n'),
    "trailer-obs-fold": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: a\r\n b\r\n\r\n",
    "trailer-nul": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: a\x00\r\n\r\n",
}


@pytest.mark.parametrize("wire", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_response_is_rejected(httplite_bin, raw_server, wire):
    # The server then hangs rather than closing, so "waiting for more" cannot pass as an
    # error by accident: a client that did not reject would time out instead.
    server = raw_server()
    server.script([step(wire, then="hang")])
    detail = run_client(httplite_bin, "get", server.url(), "--timeout", DEADLINE).expect_error("malformed")
    assert detail, "a malformed error says what was wrong"


# ---------------------------------------------------------------- limits

def head_of_size(total, status=b"HTTP/1.1 200 OK\r\n", tail=b"Content-Length: 0\r\n\r\n"):
    """A response head of exactly `total` bytes, padded with one X-Pad header."""
    filler = total - len(status) - len(tail) - len(b"X-Pad: \r\n")
    return status + b"X-Pad: " + b"p" * filler + b"\r\n" + tail


def many_headers_of_size(total):
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
    index = 0
    while len(head) + 2 < total - 100:
        head += b"X-Header-%05d: %s\r\n" % (index, b"v" * 60)
        index += 1
    return head + b"X-Last: " + b"l" * (total - len(head) - 2 - 10) + b"\r\n\r\n"


def test_header_block_just_under_64_kib_is_accepted(httplite_bin, raw_server):
    server = raw_server()
    server.script([step(head_of_size(63 * 1024)), step(many_headers_of_size(63 * 1024))])
    for response in run_client(httplite_bin, "get", server.url(), "--repeat", "2",
                               "--timeout", DEADLINE).expect_ok(2):
        assert response["status"] == 200


@pytest.mark.parametrize("make", [head_of_size, many_headers_of_size], ids=["one-header", "many-headers"])
def test_header_block_over_64_kib_is_too_large(httplite_bin, raw_server, make):
    server = raw_server()
    server.script([step(make(65 * 1024), then="hang")])
    run_client(httplite_bin, "get", server.url(), "--timeout", DEADLINE).expect_error("tooLarge")


def test_header_block_without_end_is_too_large_not_unbounded(httplite_bin, raw_server):
    # 1 MiB of header bytes and no blank line: the client must stop reading at its limit.
    server = raw_server()
    server.script([step(b"HTTP/1.1 200 OK\r\n" + b"X-Endless: " + b"e" * (1024 * 1024), then="hang")])
    run_client(httplite_bin, "get", server.url(), "--timeout", DEADLINE).expect_error("tooLarge")


def test_max_header_option_sets_the_header_limit(httplite_bin, raw_server):
    server = raw_server()
    server.script([step(head_of_size(900)), step(head_of_size(1200), then="hang")])
    result = run_client(httplite_bin, "get", server.url(), "--max-header", "1024",
                        "--repeat", "2", "--timeout", DEADLINE)
    assert result.responses and result.responses[0]["status"] == 200, result.describe()
    result.expect_error("tooLarge")


def body_response(framing, size):
    body = b"b" * size
    if framing == "content-length":
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (size, body), "keep"
    if framing == "chunked":
        return (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + chunked(*[body[i:i + 300] for i in range(0, size, 300)]), "keep")
    return b"HTTP/1.1 200 OK\r\n\r\n" + body, "close"


@pytest.mark.parametrize("framing", ["content-length", "chunked", "close"])
def test_max_body_option_sets_the_body_limit(httplite_bin, raw_server, framing):
    server = raw_server()
    wire, then = body_response(framing, 1000)
    server.script([step(wire, then=then)])
    response = run_client(httplite_bin, "get", server.url(), "--max-body", "1000",
                          "--timeout", DEADLINE).expect_ok()[0]
    assert response["bodyLength"] == 1000

    wire, _ = body_response(framing, 1001)
    server.script([step(wire, then="hang")])
    run_client(httplite_bin, "get", server.url(), "--max-body", "1000",
               "--timeout", DEADLINE).expect_error("tooLarge")


def test_default_body_limit_is_4_mib(httplite_bin, raw_server):
    limit = 4 * 1024 * 1024
    server = raw_server()
    server.script([step(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % limit + b"a" * limit),
                   step(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (limit + 1)
                        + b"a" * (limit + 1), then="hang")])
    result = run_client(httplite_bin, "get", server.url(), "--repeat", "2", "--timeout", "20", timeout=60)
    assert result.responses and result.responses[0]["bodyLength"] == limit, result.describe()
    result.expect_error("tooLarge")


@pytest.mark.parametrize("wire", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffff\r\n",
], ids=["content-length-1e15", "chunk-1-tib"])
def test_huge_declared_length_is_too_large_at_once(httplite_bin, raw_server, wire):
    # The server sends no body and hangs: only a client that checks the declared size
    # against the limit (instead of reading or allocating for it) answers before the deadline.
    server = raw_server()
    server.script([step(wire, then="hang")])
    run_client(httplite_bin, "get", server.url(), "--timeout", DEADLINE).expect_error("tooLarge")


def test_chunk_size_overflowing_64_bits_is_rejected(httplite_bin, raw_server):
    server = raw_server()
    server.script([step(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"1" + b"0" * 40 + b"\r\n", then="hang")])
    result = run_client(httplite_bin, "get", server.url(), "--timeout", DEADLINE)
    assert result.error is not None and result.error["error"] in ("malformed", "tooLarge"), result.describe()

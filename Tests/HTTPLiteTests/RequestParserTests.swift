import XCTest
@testable import HTTPLite

final class RequestParserTests: XCTestCase {
    /// The answer for `bytes` given whole, after asserting that the same answer
    /// comes however they arrive: split in two at every point, and one byte at a time.
    private func consistentOutcome(_ bytes: [UInt8], limits: RequestLimits = RequestLimits(),
                                   file: StaticString = #filePath, line: UInt = #line) -> RequestParse {
        var whole = RequestParser(limits: limits)
        let expected = whole.parse(bytes[...])
        for split in 0..<bytes.count {
            var parser = RequestParser(limits: limits)
            var outcome = parser.parse(bytes[0..<split])
            if outcome == .needMoreBytes { outcome = parser.parse(bytes[...]) }
            if outcome != expected {
                XCTFail("split at \(split) of \(bytes.count): \(outcome), whole: \(expected)", file: file, line: line)
                return expected
            }
        }
        var bytewise = RequestParser(limits: limits)
        for end in 0...bytes.count {
            let outcome = bytewise.parse(bytes[0..<end])
            if outcome == .needMoreBytes && end < bytes.count { continue }
            if outcome != expected {
                XCTFail("byte by byte, after \(end) of \(bytes.count): \(outcome), whole: \(expected)", file: file, line: line)
            }
            break
        }
        return expected
    }

    /// Parses `text` as a complete head: whole, split and byte by byte, and every
    /// proper prefix of what it consumes is `needMoreBytes`.
    private func request(_ text: String, limits: RequestLimits = RequestLimits(),
                         file: StaticString = #filePath, line: UInt = #line) -> (HTTPServerRequest, Int)? {
        let bytes = Array(text.utf8)
        guard case .done(let request, let consumed) = consistentOutcome(bytes, limits: limits, file: file, line: line) else {
            XCTFail("expected a complete request, got \(consistentOutcome(bytes, limits: limits))", file: file, line: line)
            return nil
        }
        for end in 0..<consumed {
            var parser = RequestParser(limits: limits)
            guard parser.parse(bytes[0..<end]) == .needMoreBytes else {
                XCTFail("expected needMoreBytes for the first \(end) of \(consumed) bytes", file: file, line: line)
                return nil
            }
        }
        return (request, consumed)
    }

    /// The error kind `text` is refused with (the same whole, split and byte by byte).
    private func refusal(_ text: String, limits: RequestLimits = RequestLimits(),
                         file: StaticString = #filePath, line: UInt = #line) -> RequestError.Kind? {
        refusal(Array(text.utf8), limits: limits, file: file, line: line)
    }

    private func refusal(_ bytes: [UInt8], limits: RequestLimits = RequestLimits(),
                         file: StaticString = #filePath, line: UInt = #line) -> RequestError.Kind? {
        guard case .malformed(let error) = consistentOutcome(bytes, limits: limits, file: file, line: line) else {
            XCTFail("expected a refusal", file: file, line: line)
            return nil
        }
        return error.kind
    }

    func testAGetWithHeaders() throws {
        let text = "GET /metrics?x=%2F HTTP/1.1\r\nHost: 10.0.0.1:9090\r\nAccept: text/plain;version=0.0.4\r\nUser-Agent:  Prometheus/2.42.0 \r\n\r\n"
        let (request, consumed) = try XCTUnwrap(request(text))
        XCTAssertEqual(consumed, text.utf8.count)
        XCTAssertEqual(request.method, "GET")
        XCTAssertEqual(request.target, "/metrics?x=%2F")
        XCTAssertEqual(request.path, "/metrics")
        XCTAssertEqual(request.minorVersion, 1)
        XCTAssertEqual(request.headers["user-agent"], "Prometheus/2.42.0")
        XCTAssertEqual(request.headers.fields.map(\.name), ["Host", "Accept", "User-Agent"])
        XCTAssertTrue(request.keepAlive)
    }

    func testConsumedStopsAtTheHeadAndPipelinedBytesStay() throws {
        let first = "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"
        let (request, consumed) = try XCTUnwrap(request(first + "GET /x HTTP/1.1\r\n"))
        XCTAssertEqual(request.method, "HEAD")
        XCTAssertEqual(consumed, first.utf8.count)
    }

    func testTheInputMayStartAnywhereInItsArray() throws {
        let bytes = Array("xxGET /a HTTP/1.1\r\nHost: h\r\n\r\n".utf8)
        var parser = RequestParser()
        guard case .done(let request, let consumed) = parser.parse(bytes[2...]) else { return XCTFail("not parsed") }
        XCTAssertEqual(request.target, "/a")
        XCTAssertEqual(consumed, bytes.count - 2)
    }

    func testKeepAliveByVersionAndConnection() throws {
        XCTAssertEqual(try XCTUnwrap(request("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).0.keepAlive, false)
        XCTAssertEqual(try XCTUnwrap(request("GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, CLOSE\r\n\r\n")).0.keepAlive, false)
        XCTAssertEqual(try XCTUnwrap(request("GET / HTTP/1.0\r\n\r\n")).0.keepAlive, false)
        XCTAssertEqual(try XCTUnwrap(request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")).0.keepAlive, true)
        XCTAssertEqual(try XCTUnwrap(request("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n")).0.keepAlive, false)
    }

    func testALaterMinorVersionIsReadAsOnePointOne() throws {
        let (request, _) = try XCTUnwrap(request("GET / HTTP/1.7\r\nHost: a\r\n\r\n"))
        XCTAssertEqual(request.minorVersion, 1)
        XCTAssertEqual(refusal("GET / HTTP/2.0\r\n"), .versionNotSupported)
        XCTAssertEqual(refusal("GET / HTTP/0.9\r\n"), .versionNotSupported)
    }

    func testEmptyLinesBeforeTheRequestLineAreSkipped() throws {
        let (request, consumed) = try XCTUnwrap(request("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"))
        XCTAssertEqual(request.method, "GET")
        XCTAssertEqual(consumed, 31)
    }

    func testOtherMethodsParseForTheServerToRefuse() throws {
        XCTAssertEqual(try XCTUnwrap(request("DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n")).0.method, "DELETE")
        XCTAssertEqual(try XCTUnwrap(request("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")).0.method, "POST")
    }

    func testBadRequestLines() {
        XCTAssertEqual(refusal("GET\t/ HTTP/1.1\r\n"), .badRequestLine)
        XCTAssertEqual(refusal("GET  / HTTP/1.1\r\n"), .badTarget)
        XCTAssertEqual(refusal(" GET / HTTP/1.1\r\n"), .badRequestLine)
        XCTAssertEqual(refusal("GET / HTTP/1.1 \r\n"), .badRequestLine)
        XCTAssertEqual(refusal("GET / http/1.1\r\n"), .badRequestLine)
        XCTAssertEqual(refusal("GET / HTTP/1\r\n"), .badRequestLine)
        XCTAssertEqual(refusal("GET / HTTP/1.1\rX"), .badRequestLine)
        XCTAssertEqual(refusal("GET / HTTP/1.1\n"), .bareLineFeed)
        XCTAssertEqual(refusal("\n"), .bareLineFeed)
        XCTAssertEqual(refusal("\u{16}\u{03}\u{01}"), .badRequestLine)  // a TLS ClientHello
    }

    func testOnlyOriginFormTargets() {
        XCTAssertEqual(refusal("GET http://a/ HTTP/1.1\r\n"), .badTarget)
        XCTAssertEqual(refusal("OPTIONS * HTTP/1.1\r\n"), .badTarget)
        XCTAssertEqual(refusal("GET /a b HTTP/1.1\r\n"), .badRequestLine)
        XCTAssertEqual(refusal("GET /a\"b HTTP/1.1\r\n"), .badTarget)
        XCTAssertEqual(refusal("GET /%4 HTTP/1.1\r\n"), .badTarget)
        XCTAssertEqual(refusal("GET /%zz HTTP/1.1\r\n"), .badTarget)
        XCTAssertEqual(refusal([71, 69, 84, 32, 47, 0x80]), .badTarget)
        XCTAssertNotNil(request("GET /a/b;c=d@e:f/~x?q=1&r=/?&%41 HTTP/1.1\r\nHost: a\r\n\r\n"))
    }

    /// Garbage is refused at its first bad byte, without waiting for a line end.
    func testGarbageIsRefusedAtOnce() {
        var parser = RequestParser()
        XCTAssertEqual(parser.parse(Array("GE{".utf8)[...]), .malformed(RequestError(.badRequestLine, "")))
    }

    func testFieldLines() {
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), .badHeaderField)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: a\r\nNo colon\r\n\r\n"), .badHeaderField)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: a\r\n: empty name\r\n\r\n"), .badHeaderField)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: a\r\nX: a\u{01}b\r\n\r\n"), .badHeaderField)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n folded\r\n\r\n"), .obsoleteLineFolding)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n"), .bareLineFeed)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: a\r\n\n"), .bareLineFeed)
    }

    func testHost() {
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\n\r\n"), .badHost)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), .badHost)
        XCTAssertEqual(refusal("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), .badHost)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), .badHost)
        XCTAssertNotNil(request("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"))
        XCTAssertNotNil(request("GET / HTTP/1.1\r\nHost:\r\n\r\n"))
    }

    func testBodiesAreRefused() {
        XCTAssertEqual(refusal("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"), .bodyNotAccepted)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), .bodyNotAccepted)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n"), .badFraming)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n"), .badFraming)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), .badFraming)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n"), .badFraming)
        XCTAssertNotNil(request("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 00\r\n\r\n"))
    }

    func testStatusOfEachKind() {
        let statuses: [(RequestError.Kind, Int)] = [
            (.badRequestLine, 400), (.badTarget, 400), (.uriTooLong, 414), (.versionNotSupported, 505),
            (.bareLineFeed, 400), (.obsoleteLineFolding, 400), (.badHeaderField, 400), (.badHost, 400),
            (.headTooLarge, 431), (.badFraming, 400), (.bodyNotAccepted, 413),
        ]
        for (kind, status) in statuses { XCTAssertEqual(RequestError(kind, "").status, status, "\(kind)") }
    }

    // MARK: Limits

    func testALongRequestLineIs414AtTheByteThatCrossesTheLimit() {
        let limits = RequestLimits(maxHeadBytes: 64, maxRequestLineBytes: 32)
        // 32 bytes with the CRLF fit; 33 do not.
        let fits = "GET /" + String(repeating: "a", count: 16) + " HTTP/1.1\r\nHost: a\r\n\r\n"
        XCTAssertNotNil(request(fits, limits: limits))
        let long = "GET /" + String(repeating: "a", count: 17) + " HTTP/1.1\r\n"
        XCTAssertEqual(refusal(long, limits: limits), .uriTooLong)
        var parser = RequestParser(limits: limits)
        XCTAssertEqual(parser.parse(Array(long.utf8)[0..<32]), .needMoreBytes)
        XCTAssertEqual(parser.parse(Array(long.utf8)[0..<33]), .malformed(RequestError(.uriTooLong, "")))
    }

    func testAMebibyteRequestLineWithTheDefaults() {
        var parser = RequestParser()
        let line = Array("GET /".utf8) + [UInt8](repeating: 97, count: 1 << 20)
        guard case .malformed(let error) = parser.parse(line[...]) else { return XCTFail("accepted") }
        XCTAssertEqual(error.kind, .uriTooLong)
        XCTAssertEqual(error.status, 414)
    }

    func testAHeadOverTheLimitIs431() {
        let limits = RequestLimits(maxHeadBytes: 40, maxRequestLineBytes: 40)
        let head = "GET / HTTP/1.1\r\nHost: a\r\nX: 1234567\r\n\r\n"  // 39 bytes
        XCTAssertEqual(head.utf8.count, 39)
        XCTAssertNotNil(request(head, limits: limits))
        XCTAssertNotNil(request(head, limits: RequestLimits(maxHeadBytes: 39, maxRequestLineBytes: 39)))
        XCTAssertEqual(refusal(head, limits: RequestLimits(maxHeadBytes: 38)), .headTooLarge)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "b", count: 100), limits: limits),
                       .headTooLarge)
        // A bad line before the limit is reported first, in byte order.
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nBad line\r\nX: " + String(repeating: "b", count: 100), limits: limits),
                       .badHeaderField)
        XCTAssertEqual(refusal("\r\n" + String(repeating: "\r\n", count: 30), limits: limits), .headTooLarge)
    }

    /// Whole and byte by byte only: every split of 8 KiB would take long in a debug build.
    func testTheDefaultsAreEightKibibytes() {
        let filler = "X: " + String(repeating: "b", count: 8192 - 32) + "\r\n"
        let head = Array(("GET / HTTP/1.1\r\nHost: a\r\n" + filler + "\r\n").utf8)
        XCTAssertEqual(head.count, 8192)
        var whole = RequestParser()
        guard case .done(_, 8192) = whole.parse(head[...]) else { return XCTFail("8 KiB refused") }
        var bytewise = RequestParser()
        for end in 0..<head.count where bytewise.parse(head[0..<end]) != .needMoreBytes {
            return XCTFail("an answer after \(end) bytes")
        }
        guard case .done(_, 8192) = bytewise.parse(head[...]) else { return XCTFail("8 KiB refused byte by byte") }
        let over = Array(("GET / HTTP/1.1\r\nHost: a\r\nX" + filler + "\r\n").utf8)
        var parser = RequestParser()
        XCTAssertEqual(parser.parse(over[...]), .malformed(RequestError(.headTooLarge, "")))
    }
}

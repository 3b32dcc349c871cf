import XCTest
@testable import HTTPLite

final class ResponseParserTests: XCTestCase {
    private let crlf = "\r\n"

    /// Parses `text` whole, and again byte by byte expecting `needMoreBytes` for every proper prefix.
    private func parse(_ text: String, isHead: Bool = false, limits: ResponseLimits = ResponseLimits(),
                       file: StaticString = #filePath, line: UInt = #line) -> (ParsedResponse, Int)? {
        let bytes = Array(text.utf8)
        var whole = ResponseParser(limits: limits, isHeadRequest: isHead)
        guard case .done(let response, let consumed) = whole.parse(bytes[...], atEndOfStream: false) else {
            XCTFail("expected a complete response", file: file, line: line)
            return nil
        }
        var bytewise = ResponseParser(limits: limits, isHeadRequest: isHead)
        for end in 0..<consumed {
            guard case .needMoreBytes = bytewise.parse(bytes[0..<end], atEndOfStream: false) else {
                XCTFail("expected needMoreBytes after \(end) of \(consumed) bytes", file: file, line: line)
                return nil
            }
        }
        guard case .done(let again, let consumedAgain) = bytewise.parse(bytes[0..<consumed], atEndOfStream: false) else {
            XCTFail("byte-by-byte parse did not complete", file: file, line: line)
            return nil
        }
        XCTAssertEqual(consumedAgain, consumed, file: file, line: line)
        XCTAssertEqual(again.response.body, response.response.body, file: file, line: line)
        XCTAssertEqual(again.response.status, response.response.status, file: file, line: line)
        return (response, consumed)
    }

    private func failure(_ text: String, atEndOfStream: Bool = false, isHead: Bool = false,
                         limits: ResponseLimits = ResponseLimits()) -> HTTPError? {
        var parser = ResponseParser(limits: limits, isHeadRequest: isHead)
        let bytes = Array(text.utf8)
        switch parser.parse(bytes[...], atEndOfStream: atEndOfStream) {
        case .malformed(let error): return error
        case .done, .needMoreBytes: return nil
        }
    }

    func testContentLengthResponse() throws {
        let text = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\nhello"
        let (parsed, consumed) = try XCTUnwrap(parse(text))
        XCTAssertEqual(parsed.response.status, 200)
        XCTAssertEqual(parsed.response.body, Array("hello".utf8))
        XCTAssertEqual(parsed.response.headers["content-type"], "application/json")
        XCTAssertTrue(parsed.keepAlive)
        XCTAssertEqual(consumed, text.utf8.count)
    }

    func testBytesAfterTheResponseAreNotConsumed() throws {
        let (_, consumed) = try XCTUnwrap(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiEXTRA"))
        XCTAssertEqual(consumed, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi".utf8.count)
    }

    func testHeaderValuesAreTrimmedAndNamesCaseInsensitive() throws {
        let (parsed, _) = try XCTUnwrap(parse("HTTP/1.1 200 OK\r\nX-A: \t spaced \t\r\nx-b:\r\nContent-Length: 0\r\n\r\n"))
        XCTAssertEqual(parsed.response.headers["X-a"], "spaced")
        XCTAssertEqual(parsed.response.headers["X-B"], "")
    }

    func testStatusLineWithoutReason() throws {
        let (parsed, _) = try XCTUnwrap(parse("HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n"))
        XCTAssertEqual(parsed.response.status, 404)
    }

    func testKeepAliveRules() throws {
        XCTAssertFalse(try XCTUnwrap(parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")).0.keepAlive)
        XCTAssertFalse(try XCTUnwrap(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")).0.keepAlive)
        XCTAssertTrue(try XCTUnwrap(parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n")).0.keepAlive)
        XCTAssertFalse(try XCTUnwrap(parse("HTTP/1.1 200 OK\r\nConnection: upgrade, close\r\nContent-Length: 0\r\n\r\n")).0.keepAlive)
    }

    func testChunkedWithExtensionsAndTrailers() throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n" + "1 ; quoted=\"x\"\r\n \r\n" + "A\r\n0123456789\r\n"
            + "0\r\nX-Trailer: yes\r\n\r\n"
        let (parsed, consumed) = try XCTUnwrap(parse(text))
        XCTAssertEqual(String(decoding: parsed.response.body, as: UTF8.self), "hello 0123456789")
        XCTAssertEqual(consumed, text.utf8.count)
        XCTAssertTrue(parsed.keepAlive)
    }

    func testChunkedWithoutTrailers() throws {
        let (parsed, _) = try XCTUnwrap(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"))
        XCTAssertEqual(parsed.response.body, Array("ok".utf8))
    }

    func testBodyDelimitedByClose() throws {
        var parser = ResponseParser()
        let bytes = Array("HTTP/1.1 200 OK\r\n\r\nall of it".utf8)
        guard case .needMoreBytes = parser.parse(bytes[...], atEndOfStream: false) else { return XCTFail("ended early") }
        guard case .done(let parsed, let consumed) = parser.parse(bytes[...], atEndOfStream: true) else {
            return XCTFail("not done at end of stream")
        }
        XCTAssertEqual(parsed.response.body, Array("all of it".utf8))
        XCTAssertEqual(consumed, bytes.count)
        XCTAssertFalse(parsed.keepAlive)
    }

    func testInterimResponsesAreSkipped() throws {
        let text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
            + "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
        let (parsed, _) = try XCTUnwrap(parse(text))
        XCTAssertEqual(parsed.response.status, 201)
        XCTAssertNil(parsed.response.headers["Link"])
        XCTAssertEqual(parsed.response.body, Array("ok".utf8))
    }

    func testSwitchingProtocolsIsMalformed() {
        XCTAssertEqual(failure("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")?.code, .malformed)
    }

    func testNoBodyForHeadAnd204And304() throws {
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
        XCTAssertEqual(try XCTUnwrap(parse(head, isHead: true)).1, head.utf8.count)
        let noContent = "HTTP/1.1 204 No Content\r\n\r\n"
        XCTAssertEqual(try XCTUnwrap(parse(noContent)).1, noContent.utf8.count)
        let notModified = "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n"
        XCTAssertEqual(try XCTUnwrap(parse(notModified)).1, notModified.utf8.count)
    }

    func testMalformedResponses() {
        let cases: [(String, String)] = [
            ("obs-fold", "HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 0\r\n\r\n"),
            ("bare LF in headers", "HTTP/1.1 200 OK\nContent-Length: 0\n\n"),
            ("bare LF after status", "HTTP/1.1 200 OK\r\nA: b\nContent-Length: 0\r\n\r\n"),
            ("NUL in value", "HTTP/1.1 200 OK\r\nX-A: a\u{0}b\r\nContent-Length: 0\r\n\r\n"),
            ("CR in value", "HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n"),
            ("escape in value", "HTTP/1.1 200 OK\r\nX-A: a\u{1B}b\r\nContent-Length: 0\r\n\r\n"),
            ("space before colon", "HTTP/1.1 200 OK\r\nX-A : b\r\nContent-Length: 0\r\n\r\n"),
            ("no colon", "HTTP/1.1 200 OK\r\nX-A\r\nContent-Length: 0\r\n\r\n"),
            ("duplicate Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok"),
            ("conflicting Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"),
            ("Content-Length list", "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok"),
            ("negative Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
            ("Content-Length with chunked", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"),
            ("unknown transfer coding", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            ("HTTP/2 status line", "HTTP/2 200 OK\r\n\r\n"),
            ("lower-case version", "http/1.1 200 OK\r\n\r\n"),
            ("two-digit status", "HTTP/1.1 20 OK\r\n\r\n"),
            ("empty first line", "\r\nHTTP/1.1 200 OK\r\n\r\n"),
            ("chunk size not hex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            ("chunk without CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n"),
            ("junk after chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2 x\r\nok\r\n"),
            ("bare LF in chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nok\r\n"),
            ("bad trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n"),
        ]
        for (name, text) in cases {
            XCTAssertEqual(failure(text)?.code, .malformed, name)
        }
    }

    func testLimits() {
        let small = ResponseLimits(maxHeaderBytes: 100, maxBodyBytes: 10)
        let bigHeader = "HTTP/1.1 200 OK\r\nX-Big: \(String(repeating: "a", count: 200))\r\n\r\n"
        XCTAssertEqual(failure(bigHeader, limits: small)?.code, .tooLarge)
        // Without an end in sight the cap still applies, so memory stays bounded.
        XCTAssertEqual(failure(String(bigHeader.prefix(150)), limits: small)?.code, .tooLarge)
        XCTAssertEqual(failure("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", limits: small)?.code, .tooLarge)
        XCTAssertEqual(failure("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\n", limits: small)?.code, .tooLarge)
        XCTAssertEqual(failure("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n", limits: small)?.code, .tooLarge)
        XCTAssertEqual(failure("HTTP/1.1 200 OK\r\n\r\n0123456789AB", limits: small)?.code, .tooLarge)
        XCTAssertNotNil(parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", limits: small))
    }

    func testClosedEarly() {
        XCTAssertEqual(failure("", atEndOfStream: true)?.code, .closedEarly)
        XCTAssertEqual(failure("HTTP/1.1 200 OK\r\nContent-", atEndOfStream: true)?.code, .closedEarly)
        XCTAssertEqual(failure("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhe", atEndOfStream: true)?.code, .closedEarly)
        XCTAssertEqual(failure("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhe", atEndOfStream: true)?.code, .closedEarly)
        XCTAssertEqual(failure("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", atEndOfStream: true)?.code, .closedEarly)
    }
}

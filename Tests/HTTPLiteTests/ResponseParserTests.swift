import XCTest
@testable import HTTPLite

final class ResponseParserTests: XCTestCase {
    private let crlf = "\r\n"

    /// What one parse call answered, in a form tests can compare.
    private enum Outcome: Equatable {
        case done(status: Int, fields: [String], body: [UInt8], keepAlive: Bool, consumed: Int)
        case needMoreBytes
        case malformed(code: HTTPError.Code, detail: String)

        init(_ result: Parse<ParsedResponse>) {
            switch result {
            case .done(let parsed, let consumed):
                let response = parsed.response
                self = .done(status: response.status, fields: response.headers.map { "\($0.name): \($0.value)" },
                             body: response.body, keepAlive: parsed.keepAlive, consumed: consumed)
            case .needMoreBytes:
                self = .needMoreBytes
            case .malformed(let error):
                self = .malformed(code: error.code, detail: error.detail)
            }
        }
    }

    /// The answer for `bytes` given whole, after asserting that the same answer comes
    /// however they arrive: split in two at every point, and one byte at a time.
    private func consistentOutcome(_ bytes: [UInt8], atEndOfStream: Bool = false, isHead: Bool = false,
                                   limits: ResponseLimits = ResponseLimits(),
                                   file: StaticString = #filePath, line: UInt = #line) -> Outcome {
        func fresh() -> ResponseParser { ResponseParser(limits: limits, isHeadRequest: isHead) }
        var whole = fresh()
        let expected = Outcome(whole.parse(bytes[...], atEndOfStream: atEndOfStream))
        for split in 0..<bytes.count {
            var parser = fresh()
            var outcome = Outcome(parser.parse(bytes[0..<split], atEndOfStream: false))
            if outcome == .needMoreBytes {
                outcome = Outcome(parser.parse(bytes[...], atEndOfStream: atEndOfStream))
            }
            if outcome != expected {
                XCTFail("split at \(split) of \(bytes.count): \(outcome), whole: \(expected)", file: file, line: line)
                return expected
            }
        }
        var bytewise = fresh()
        for end in 0...bytes.count {
            let outcome = Outcome(bytewise.parse(bytes[0..<end], atEndOfStream: end == bytes.count && atEndOfStream))
            if outcome == .needMoreBytes && end < bytes.count { continue }
            if outcome != expected {
                XCTFail("byte by byte, after \(end) of \(bytes.count): \(outcome), whole: \(expected)", file: file, line: line)
            }
            break
        }
        return expected
    }

    /// Parses `text` whole, and again byte by byte expecting `needMoreBytes` for every proper prefix.
    private func parse(_ text: String, isHead: Bool = false, limits: ResponseLimits = ResponseLimits(),
                       file: StaticString = #filePath, line: UInt = #line) -> (ParsedResponse, Int)? {
        let bytes = Array(text.utf8)
        guard case .done(_, _, _, _, let consumed) = consistentOutcome(bytes, isHead: isHead, limits: limits,
                                                                       file: file, line: line) else {
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
        guard case .done(let parsed, let consumedAgain) = bytewise.parse(bytes[0..<consumed], atEndOfStream: false) else {
            XCTFail("byte-by-byte parse did not complete", file: file, line: line)
            return nil
        }
        XCTAssertEqual(consumedAgain, consumed, file: file, line: line)
        return (parsed, consumed)
    }

    /// The error `text` gets, the same whole and however it is split; nil when it has none.
    private func failure(_ text: String, atEndOfStream: Bool = false, isHead: Bool = false,
                         limits: ResponseLimits = ResponseLimits(),
                         file: StaticString = #filePath, line: UInt = #line) -> HTTPError? {
        switch consistentOutcome(Array(text.utf8), atEndOfStream: atEndOfStream, isHead: isHead, limits: limits,
                                 file: file, line: line) {
        case .malformed(let code, let detail): return HTTPError(code, detail)
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

    private let chunkedHead = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

    func testChunkExtensionsFollowTheGrammar() throws {
        let valid = ["5", "5;a", "5;a=b", "5 ; a = \"x\\\"y\"", "5;a=b;c;d=\"\"", "5\t;\ta\t=\tb", "5;q=\"a;b\"",
                     "5;a=\"caf\u{e9} \\\t\"", "0005;n!#$%&'*+-.^_`|~=v"]
        for line in valid {
            let (parsed, _) = try XCTUnwrap(parse(chunkedHead + line + "\r\nhello\r\n0\r\n\r\n"), line)
            XCTAssertEqual(parsed.response.body, Array("hello".utf8), line)
        }
        let invalid = ["25  ", "5 ", "5\t", "5;", "2;\r", "5;a ", "5;a=", "5;a= ", "5;=b", "5;a=b c", "5;a=b;",
                       "5;a=\"abc\";b=\"def; ghi", "5;a=\"x\\\"", "5;a=\"x\"y", "5;a=\"\u{1}\"", "5;a=\"\\\u{7f}\"",
                       "5;a@b", "5;a=b@", "5,a", "5;a;;b"]
        for line in invalid {
            XCTAssertEqual(failure(chunkedHead + line + "\r\nhello\r\n0\r\n\r\n")?.code, .malformed, line)
        }
    }

    func testNoLimitValueMakesParsingTrap() {
        let unlimited = ResponseLimits(maxHeaderBytes: .max, maxBodyBytes: .max)
        for size in ["7ffffffffffffffe", "7fffffffffffffff", "7ffffffffffffffd"] {
            XCTAssertNil(failure(chunkedHead + size + "\r\n", limits: unlimited), size)
            XCTAssertEqual(failure(chunkedHead + size + "\r\nabc", atEndOfStream: true, limits: unlimited)?.code, .closedEarly, size)
        }
        XCTAssertNil(failure(chunkedHead + "1\r\na\r\n7ffffffffffffffe\r\nxyz", limits: unlimited))
        XCTAssertNil(failure("HTTP/1.1 200 OK\r\nContent-Length: 999999999999999999\r\n\r\nabc", limits: unlimited))
        for limit in [Int.min, -1, 0] {
            let odd = ResponseLimits(maxHeaderBytes: limit, maxBodyBytes: limit)
            XCTAssertEqual(failure(chunkedHead + "1\r\na\r\n0\r\n\r\n", limits: odd)?.code, .tooLarge)
            let bodyOnly = ResponseLimits(maxHeaderBytes: .max, maxBodyBytes: limit)
            XCTAssertEqual(failure(chunkedHead + "1\r\na\r\n2\r\nab\r\n0\r\n\r\n", limits: bodyOnly)?.code, .tooLarge)
            XCTAssertEqual(failure("HTTP/1.1 200 OK\r\n\r\nab", limits: bodyOnly)?.code, .tooLarge)
        }
    }

    func testTrailerSectionOverTheLimitIsTooLargeHoweverSplit() {
        let small = ResponseLimits(maxHeaderBytes: 100, maxBodyBytes: 100)
        let trailer = "X-T: \(String(repeating: "t", count: 120))\r\n"
        let text = chunkedHead + "2\r\nok\r\n0\r\n" + trailer + "\r\n"
        XCTAssertEqual(failure(text, limits: small)?.code, .tooLarge)
        // Just at the limit (the trailer lines and the final CRLF): accepted.
        let fits = "X-T: \(String(repeating: "t", count: 100 - 9))\r\n"
        XCTAssertNotNil(parse(chunkedHead + "2\r\nok\r\n0\r\n" + fits + "\r\n", limits: small))
    }

    func testChunkSizeLineOverTheCapIsMalformedHoweverSplit() throws {
        let long = "5;a=" + String(repeating: "v", count: 4096) + "\r\nhello\r\n0\r\n\r\n"
        XCTAssertEqual(failure(chunkedHead + long)?.detail, "a chunk size line is longer than 4096 bytes")
        // 4096 bytes before the LF, its CR included: accepted.
        let atCap = "5;a=" + String(repeating: "v", count: 4096 - 5) + "\r\nhello\r\n0\r\n\r\n"
        XCTAssertEqual(try XCTUnwrap(parse(chunkedHead + atCap)).0.response.body, Array("hello".utf8))
    }

    func testHeaderLineOverTheLimitIsTooLargeHoweverItEnds() {
        let small = ResponseLimits(maxHeaderBytes: 100, maxBodyBytes: 100)
        let long = "X-Big: " + String(repeating: "a", count: 200)
        for ending in ["\n", "\r\n", "\r\n\r\n", "\nContent-Length: 0\r\n\r\n"] {
            XCTAssertEqual(failure("HTTP/1.1 200 OK\r\n" + long + ending, limits: small)?.code, .tooLarge, ending.debugDescription)
        }
        // Under the limit, a bare LF is malformed however it arrives.
        XCTAssertEqual(failure("HTTP/1.1 200 OK\r\nX-A: b\nContent-Length: 0\r\n\r\n", limits: small)?.code, .malformed)
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

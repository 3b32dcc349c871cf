import XCTest
@testable import HTTPLite

final class HTTPMessagesTests: XCTestCase {
    /// The headers of a response parsed from `head` (status line and fields, without the empty line).
    private func parsedHeaders(_ head: String, file: StaticString = #filePath, line: UInt = #line) -> HTTPHeaders? {
        var parser = ResponseParser()
        let bytes = Array((head + "\r\n").utf8)
        guard case .done(let parsed, _) = parser.parse(bytes[...], atEndOfStream: false) else {
            XCTFail("not a complete response", file: file, line: line)
            return nil
        }
        return parsed.response.headers
    }

    func testParsedHeadersAreFoundByNameIgnoringCase() throws {
        let headers = try XCTUnwrap(parsedHeaders(
            "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/json\r\nContent-Length: 0\r\n"))
        XCTAssertEqual(headers["content-type"], "application/json")
        XCTAssertEqual(headers["CONTENT-TYPE"], "application/json")
        XCTAssertEqual(headers["Server"], "nginx")
        XCTAssertNil(headers["Content-Typ"])
        XCTAssertNil(headers["Content-Types"])
        XCTAssertNil(headers["Date"])
        XCTAssertTrue(headers.contains("SERVER"))
        XCTAssertFalse(headers.contains("Host"))
        XCTAssertEqual(headers.count, 3)
    }

    func testDuplicateNamesKeepTheirOrder() throws {
        let headers = try XCTUnwrap(parsedHeaders(
            "HTTP/1.1 200 OK\r\nVary: Accept\r\nX-Other: 1\r\nvary:  Origin \r\nContent-Length: 0\r\nVARY: *\r\n"))
        XCTAssertEqual(headers["Vary"], "Accept", "the first value")
        XCTAssertEqual(headers.values(for: "vary"), ["Accept", "Origin", "*"])
        XCTAssertEqual(headers.values(for: "Missing"), [])
        XCTAssertEqual(headers.map { "\($0.name)=\($0.value)" },
                       ["Vary=Accept", "X-Other=1", "vary=Origin", "Content-Length=0", "VARY=*"])
        XCTAssertEqual(headers.fields.map { $0.name }, ["Vary", "X-Other", "vary", "Content-Length", "VARY"])
    }

    func testValuesHoldAnyFieldValueByte() throws {
        let headers = try XCTUnwrap(parsedHeaders("HTTP/1.1 200 OK\r\nX-A: a\tb c:d\r\nX-B:\r\nContent-Length: 0\r\n"))
        XCTAssertEqual(headers["x-a"], "a\tb c:d")
        XCTAssertEqual(headers["x-b"], "")
    }

    func testBuiltHeadersWorkLikeParsedOnes() {
        var headers: HTTPHeaders = ["Accept": "application/json", "X-List": "a, close"]
        headers.add("accept", "text/plain")
        XCTAssertEqual(headers["ACCEPT"], "application/json")
        XCTAssertEqual(headers.values(for: "Accept"), ["application/json", "text/plain"])
        XCTAssertEqual(headers.fields.map { $0.name }, ["Accept", "X-List", "accept"])
        XCTAssertTrue(headers.contains(token: "CLOSE", in: "x-list"))
        XCTAssertFalse(headers.contains(token: "clos", in: "X-List"))
        XCTAssertFalse(headers.contains(token: "close", in: "Accept"))
        XCTAssertEqual(HTTPHeaders([(name: "A", value: "1"), (name: "B", value: "")]).map { $0.value }, ["1", ""])
        XCTAssertEqual(HTTPHeaders().count, 0)
        XCTAssertNil(HTTPHeaders()["A"])
    }

    /// A field added to parsed headers comes after the received ones, which stay as they were.
    func testAFieldAddedToParsedHeadersComesLast() throws {
        var headers = try XCTUnwrap(parsedHeaders("HTTP/1.1 200 OK\r\nVary:  a \r\nContent-Length: 0\r\n"))
        headers.add("vary", "b")
        XCTAssertEqual(headers.values(for: "VARY"), ["a", "b"])
        XCTAssertEqual(headers.fields.map { "\($0.name)=\($0.value)" }, ["Vary=a", "Content-Length=0", "vary=b"])
        XCTAssertEqual(headers.count, 3)
    }

    func testEmptyListElementsAndBlanksAreSkipped() throws {
        let headers = try XCTUnwrap(parsedHeaders("HTTP/1.1 200 OK\r\nConnection: ,\t, keep-alive ,,\r\nContent-Length: 0\r\n"))
        XCTAssertTrue(headers.contains(token: "keep-alive", in: "Connection"))
        XCTAssertFalse(headers.contains(token: "", in: "Connection"))
        XCTAssertFalse(headers.contains(token: ",", in: "Connection"))
    }

    /// The 128-bit table against RFC 9110's list, for every byte.
    func testTokenBytesAreExactlyTchar() {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        for byte in 0...255 {
            XCTAssertEqual(isTokenByte(UInt8(byte)), tchar.contains(UInt8(byte)), "byte \(byte)")
        }
    }
}

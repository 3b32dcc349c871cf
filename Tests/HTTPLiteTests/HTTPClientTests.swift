import XCTest
@testable import HTTPLite

final class HTTPClientTests: XCTestCase {
    /// Requests that must be refused before anything is sent; port 9 (discard) is never reached.
    func testNoHeaderLineWithCRLFOrNULIsSent() throws {
        let url = try HTTPURL("http://127.0.0.1:9/")
        let bad: [(String, String)] = [
            ("X-A", "a\u{0}b"), ("X-A", "a\r\nX-Injected: yes"), ("X-A", "a\nb"), ("X-A", "a\rb"),
            ("X-A\r\nX-Injected", "yes"), ("X-\u{0}A", "b"), ("Host", "elsewhere"), ("host", "elsewhere"),
        ]
        for (name, value) in bad {
            let client = HTTPClient()
            XCTAssertThrowsError(try client.execute(HTTPRequest(url: url, headers: [name: value])), name.debugDescription) { error in
                XCTAssertEqual((error as? HTTPError)?.code, .invalidRequest, "\(name.debugDescription): \(value.debugDescription)")
            }
            XCTAssertEqual(client.connectionsOpened, 0)
        }
    }
}

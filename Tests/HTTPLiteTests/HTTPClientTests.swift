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

    /// The one kept connection is reused for the same scheme, host and port; a request
    /// elsewhere opens a new one and closes the kept one, which is not used again.
    func testTheKeptConnectionIsReusedForItsServerAndClosedForAnother() throws {
        let firstClosed = DispatchSemaphore(value: 0)
        let first = try LoopbackServer { peer, _ in
            while peer.readRequest() { peer.answer("first") }
            firstClosed.signal()
        }
        defer { first.stop() }
        let second = try LoopbackServer { peer, _ in
            while peer.readRequest() { peer.answer("second") }
        }
        defer { second.stop() }
        let client = HTTPClient(configuration: .init(timeout: 20))
        XCTAssertEqual(try client.execute(first.request()).body, Array("first".utf8))
        XCTAssertEqual(try client.execute(first.request()).body, Array("first".utf8))
        XCTAssertEqual(client.connectionsOpened, 1, "the same server: one connection")

        XCTAssertEqual(try client.execute(second.request()).body, Array("second".utf8))
        XCTAssertEqual(client.connectionsOpened, 2)
        XCTAssertEqual(firstClosed.wait(timeout: .now() + 20), .success, "the first server's connection was not closed")

        XCTAssertEqual(try client.execute(first.request()).body, Array("first".utf8))
        XCTAssertEqual(client.connectionsOpened, 3, "the first server's connection was closed, so a new one")
        XCTAssertEqual(try client.execute(first.request()).body, Array("first".utf8))
        XCTAssertEqual(client.connectionsOpened, 3)
    }

    /// A request sent again reuses the bytes made for it; a changed one is written anew.
    func testARequestThatChangedIsWrittenAnew() throws {
        let heads = Heads()
        let server = try LoopbackServer { peer, _ in
            while peer.readRequest() {
                heads.append(peer.lastHead)
                peer.answer("ok")
            }
        }
        defer { server.stop() }
        let client = HTTPClient(configuration: .init(timeout: 20))
        var request = server.request()
        request.headers.add("X-Try", "1")
        _ = try client.execute(request)
        _ = try client.execute(request)
        request.headers = ["X-Try": "2"]
        _ = try client.execute(request)
        request.method = "OPTIONS"
        _ = try client.execute(request)
        request.body = Array("data".utf8)
        request.method = "GET"
        _ = try client.execute(request)
        let values = heads.all.map { head in
            head.split(separator: "\r\n").filter { $0.hasPrefix("X-Try") || $0.hasPrefix("Content-Length") || !$0.contains(":") }
                .joined(separator: "|")
        }
        XCTAssertEqual(values, ["GET / HTTP/1.1|X-Try: 1", "GET / HTTP/1.1|X-Try: 1", "GET / HTTP/1.1|X-Try: 2",
                                "OPTIONS / HTTP/1.1|X-Try: 2", "GET / HTTP/1.1|X-Try: 2|Content-Length: 4"])
    }
}

/// Request heads a test server saw, from its connection threads.
private final class Heads: @unchecked Sendable {
    private let lock = NSLock()
    private var heads: [String] = []

    func append(_ head: String) {
        lock.lock()
        heads.append(head)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return heads
    }
}

import Glibc
import XCTest
@testable import HTTPLite

/// The server on a loopback socket, driven by a poll loop written here, with
/// clients of raw sockets in the same thread: the loop never blocks, so a test
/// that passes shows that the server never held it.
final class HTTPServerTests: XCTestCase {
    private var server: HTTPServer!
    private var clients: [Int32] = []
    /// The longest single `advance` call seen, in seconds.
    private var longestAdvance = 0.0

    override func tearDown() {
        for client in clients { Glibc.close(client) }
        clients = []
        server?.close()
        server = nil
        super.tearDown()
    }

    private func start(address: String? = "127.0.0.1", limits: ServerLimits = ServerLimits(),
                       body: [UInt8] = Array("metric 1\n".utf8)) throws {
        server = try HTTPServer(address: address, port: 0, limits: limits) { path in
            switch path {
            case "/metrics": return HTTPServerResponse(status: 200, contentType: "text/plain; version=0.0.4", body: body)
            case "/healthz": return HTTPServerResponse(status: 200, text: "ok")
            default: return HTTPServerResponse(status: 404, text: "not found")
            }
        }
    }

    // MARK: The loop and the clients

    /// One round of the loop: poll the server's interests and `watch` (for
    /// readable) for up to `milliseconds`, then advance the server.
    private func pollOnce(watch: [Int32] = [], milliseconds: Int32 = 20) -> Set<Int32> {
        let interests = server.interests
        var entries = interests.map { pollfd(fd: $0.descriptor, events: $0.events, revents: 0) }
        entries += watch.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var timeout = milliseconds
        if let wakeAt = server.wakeAt {
            timeout = min(timeout, Int32(max(0, (wakeAt - monotonicSeconds()) * 1000).rounded(.up)))
        }
        _ = poll(&entries, nfds_t(entries.count), timeout)
        let ready = entries[0..<interests.count].map { PollInterest(descriptor: $0.fd, events: $0.revents) }
        let started = monotonicSeconds()
        server.advance(ready: ready, now: monotonicSeconds())
        longestAdvance = max(longestAdvance, monotonicSeconds() - started)
        return Set(entries[interests.count...].filter { $0.revents != 0 }.map(\.fd))
    }

    /// Runs the loop until `done` or `seconds` pass; whether `done` came true.
    @discardableResult
    private func run(seconds: Double = 10, until done: () -> Bool) -> Bool {
        let end = monotonicSeconds() + seconds
        while monotonicSeconds() < end {
            if done() { return true }
            _ = pollOnce()
        }
        return done()
    }

    private func connect(to host: String = "127.0.0.1", port: Int? = nil) throws -> Int32 {
        let address = try XCTUnwrap(SocketAddress.ipv4(host, port: port ?? server.port) ?? SocketAddress.ipv6(host, port: port ?? server.port))
        let client = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        XCTAssertGreaterThanOrEqual(client, 0)
        clients.append(client)
        let result = address.withSockaddr { Glibc.connect(client, $0, $1) }
        XCTAssertTrue(result == 0 || errno == EINPROGRESS, "connect: \(errno)")
        // The loop accepts; the connect completes on loopback at once.
        return client
    }

    /// Sends what the socket takes now; the count.
    @discardableResult
    private func send(_ client: Int32, _ bytes: [UInt8]) -> Int {
        let sent = bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return max(sent, 0)
    }

    private func send(_ client: Int32, _ text: String) { XCTAssertEqual(send(client, Array(text.utf8)), text.utf8.count) }

    /// What is there to read now: bytes, [] for nothing yet, nil at end of stream (or reset).
    private func receive(_ client: Int32) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
        if count > 0 { return Array(buffer[0..<count]) }
        if count == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) { return nil }
        return []
    }

    /// Runs the loop until `client` has a whole response (parsed by HTTPLite's own
    /// response parser) or ended; nil when it ended without one.
    private func response(_ client: Int32, isHead: Bool = false, seconds: Double = 10,
                          file: StaticString = #filePath, line: UInt = #line) -> HTTPResponse? {
        var bytes: [UInt8] = []
        var parser = ResponseParser(isHeadRequest: isHead)
        var ended = false
        let end = monotonicSeconds() + seconds
        while monotonicSeconds() < end {
            if pollOnce(watch: [client]).contains(client) {
                if let received = receive(client) { bytes += received } else { ended = true }
            }
            switch parser.parse(bytes[...], atEndOfStream: ended) {
            case .done(let parsed, _): return parsed.response
            case .malformed(let error):
                XCTFail("malformed response: \(error)", file: file, line: line)
                return nil
            case .needMoreBytes where ended: return nil
            case .needMoreBytes: continue
            }
        }
        XCTFail("no response within \(seconds) s", file: file, line: line)
        return nil
    }

    /// Runs the loop until `client` sees end of stream (true) or `seconds` pass.
    private func endsOfStream(_ client: Int32, seconds: Double = 10) -> Bool {
        let end = monotonicSeconds() + seconds
        while monotonicSeconds() < end {
            if pollOnce(watch: [client]).contains(client), receive(client) == nil { return true }
        }
        return false
    }

    private func get(_ path: String, method: String = "GET", extra: String = "") throws -> HTTPResponse? {
        let client = try connect()
        send(client, "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\(extra)\r\n")
        return response(client, isHead: method == "HEAD")
    }

    // MARK: Answers

    func testGetHeadAnd404() throws {
        try start()
        let metrics = try XCTUnwrap(get("/metrics"))
        XCTAssertEqual(metrics.status, 200)
        XCTAssertEqual(metrics.headers["content-type"], "text/plain; version=0.0.4")
        XCTAssertEqual(String(decoding: metrics.body, as: UTF8.self), "metric 1\n")
        let head = try XCTUnwrap(get("/metrics", method: "HEAD"))
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers["content-length"], "9")
        XCTAssertEqual(head.body, [])
        XCTAssertEqual(try XCTUnwrap(get("/metrics?debug=1")).status, 200)
        XCTAssertEqual(try XCTUnwrap(get("/nothing")).status, 404)
    }

    func testOtherMethodsAre405WithAllow() throws {
        try start()
        let response = try XCTUnwrap(get("/metrics", method: "POST", extra: "Content-Length: 0\r\n"))
        XCTAssertEqual(response.status, 405)
        XCTAssertEqual(response.headers["allow"], "GET, HEAD")
    }

    func testKeepAliveServesSeveralRequestsOnOneConnection() throws {
        try start()
        let client = try connect()
        for _ in 0..<3 {
            send(client, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
            XCTAssertEqual(response(client)?.status, 200)
        }
        send(client, "GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(response(client)?.headers["connection"], "close")
        XCTAssertTrue(endsOfStream(client))
        XCTAssertTrue(run { server.connectionCount == 0 })
    }

    func testRefusedHeadsGetTheirStatusThenTheConnectionEnds() throws {
        try start()
        let cases: [(String, Int)] = [
            ("\u{16}\u{03}\u{01}\u{02}\u{00}garbage\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\n\r\n", 400),
            ("GET / HTTP/2.0\r\n\r\n", 505),
            ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", 413),
            ("GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "y", count: 9000) + "\r\n\r\n", 431),
        ]
        for (request, status) in cases {
            let client = try connect()
            send(client, request)
            let response = try XCTUnwrap(self.response(client), "\(status)")
            XCTAssertEqual(response.status, status)
            XCTAssertEqual(response.headers["connection"], "close")
            XCTAssertTrue(endsOfStream(client), "\(status)")
        }
    }

    /// The client still sends the rest of a mebibyte request line when the 414
    /// comes: the server reads and drops it (lingering) so the 414 is not lost to a reset.
    func testAMebibyteRequestLineGets414() throws {
        try start()
        let client = try connect()
        var line = Array("GET /".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20)
        var answer: [UInt8] = []
        let end = monotonicSeconds() + 20
        var ended = false
        while !ended && monotonicSeconds() < end {
            if !line.isEmpty { line.removeFirst(send(client, line)) }
            if pollOnce(watch: [client], milliseconds: 5).contains(client) {
                if let bytes = receive(client) { answer += bytes } else { ended = true }
            }
        }
        XCTAssertTrue(ended)
        // Far more than the 8 KiB limit went out before the end: the server dropped it unread.
        XCTAssertLessThan(line.count, (1 << 20) - (64 << 10))
        XCTAssertTrue(String(decoding: answer, as: UTF8.self).hasPrefix("HTTP/1.1 414 URI Too Long\r\n"),
                      String(decoding: answer.prefix(80), as: UTF8.self))
    }

    // MARK: Hostile clients

    /// Connections that send part of a head and hold it: the cap holds, a normal
    /// client is still answered (it evicts the oldest), and the rest time out.
    func testSlowLorisDoesNotStarveANormalClient() throws {
        try start(limits: ServerLimits(headTimeout: 1.5))
        var loris: [Int32] = []
        for _ in 0..<40 {
            let client = try connect()
            send(client, "GET /metrics HTTP/1.1\r\nHo")
            loris.append(client)
            _ = pollOnce(milliseconds: 0)
        }
        XCTAssertTrue(run { server.connectionCount == 16 })
        XCTAssertEqual(try XCTUnwrap(get("/healthz")).status, 200)
        XCTAssertLessThanOrEqual(server.connectionCount, 16)
        XCTAssertGreaterThanOrEqual(server.evictions, 24)
        // The held heads are closed at their deadline.
        XCTAssertTrue(run { server.connectionCount == 0 })
        XCTAssertLessThan(longestAdvance, 0.5, "one advance took \(longestAdvance) s")
    }

    func testAHundredParallelClients() throws {
        try start()
        var parallel: [Int32] = []
        for _ in 0..<100 {
            let client = try connect()
            send(client, "GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            parallel.append(client)
        }
        var answered = 0
        var ended = Set<Int32>()
        var received: [Int32: [UInt8]] = [:]
        XCTAssertTrue(run(seconds: 20) {
            for client in parallel where !ended.contains(client) {
                if let bytes = receive(client) { received[client, default: []] += bytes } else { ended.insert(client) }
            }
            return ended.count == parallel.count
        })
        for client in parallel where String(decoding: received[client] ?? [], as: UTF8.self).hasPrefix("HTTP/1.1 200 OK") {
            answered += 1
        }
        // Each is answered, or closed unanswered to make room: never left hanging.
        XCTAssertGreaterThanOrEqual(answered, 16)
        XCTAssertLessThanOrEqual(100 - answered, server.evictions)
        XCTAssertEqual(try XCTUnwrap(get("/healthz")).status, 200)
        XCTAssertLessThan(longestAdvance, 0.5, "one advance took \(longestAdvance) s")
    }

    /// A client that asks for a large body and never reads: the writes do not
    /// block the loop, another client is answered meanwhile, and it is closed at
    /// the write deadline.
    func testAClientThatDoesNotReadDoesNotHoldTheLoop() throws {
        try start(limits: ServerLimits(writeTimeout: 1), body: [UInt8](repeating: 120, count: 16 << 20))
        let stuck = try connect()
        send(stuck, "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
        for _ in 0..<5 { _ = pollOnce(milliseconds: 5) }
        XCTAssertEqual(try XCTUnwrap(get("/healthz")).status, 200)
        XCTAssertTrue(run { server.connectionCount == 0 }, "the stuck client was not closed")
        XCTAssertLessThan(longestAdvance, 0.5, "one advance took \(longestAdvance) s")
    }

    func testAnIdleConnectionClosesAtItsDeadline() throws {
        try start(limits: ServerLimits(headTimeout: 0.3, idleTimeout: 0.5))
        let silent = try connect()
        _ = pollOnce(milliseconds: 0)
        XCTAssertEqual(server.connectionCount, 1)
        let wakeAt = try XCTUnwrap(server.wakeAt)
        XCTAssertLessThanOrEqual(wakeAt, monotonicSeconds() + 0.3)
        XCTAssertTrue(endsOfStream(silent))
        let kept = try connect()
        send(kept, "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(response(kept)?.status, 200)
        XCTAssertEqual(server.connectionCount, 1)
        XCTAssertTrue(endsOfStream(kept))
        XCTAssertNil(server.wakeAt)
    }

    // MARK: Addresses

    func testEveryAddressTakesIPv4AndIPv6() throws {
        try start(address: nil)
        XCTAssertTrue(server.address.hasSuffix(":\(server.port)"))
        for host in ["127.0.0.1", "::1"] where server.address.hasPrefix("[::]") || host == "127.0.0.1" {
            let client = try connect(to: host)
            send(client, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(response(client)?.status, 200, host)
        }
    }

    func testAnIPv6AddressOnly() throws {
        do {
            try start(address: "::1")
        } catch let error as HTTPError where error.code == .refused {
            throw XCTSkip("no IPv6 loopback here: \(error)")
        }
        XCTAssertEqual(server.address, "[::1]:\(server.port)")
        let client = try connect(to: "::1")
        send(client, "GET /healthz HTTP/1.1\r\nHost: [::1]\r\n\r\n")
        XCTAssertEqual(response(client)?.status, 200)
    }

    func testBadAddressesAndATakenPort() throws {
        for (address, port) in [("localhost", 80), ("10.0.0.1\u{0}", 80), ("127.0.0.1", 70000)] {
            XCTAssertThrowsError(try HTTPServer(address: address, port: port) { _ in HTTPServerResponse(status: 200, text: "") }) {
                XCTAssertEqual(($0 as? HTTPError)?.code, .badAddress)
            }
        }
        try start()
        XCTAssertThrowsError(try HTTPServer(address: "127.0.0.1", port: server.port) { _ in HTTPServerResponse(status: 200, text: "") }) {
            XCTAssertEqual(($0 as? HTTPError)?.code, .system)
        }
    }

    func testCloseLeavesNothingToPoll() throws {
        try start()
        let client = try connect()
        _ = pollOnce(milliseconds: 0)
        XCTAssertEqual(server.connectionCount, 1)
        server.close()
        XCTAssertEqual(server.interests, [])
        XCTAssertEqual(server.connectionCount, 0)
        XCTAssertTrue(endsOfStream(client, seconds: 1) || receive(client) == nil)
    }
}

import Foundation
import Glibc
@testable import HTTPLite
import XCTest

final class HTTPExchangeTests: XCTestCase {
    /// The point of the design: two exchanges in one poll loop, and the one whose server
    /// answers at once finishes while the other's server still holds its answer.
    func testTwoExchangesInOnePollLoopFinishInTheOrderTheirServersAnswer() throws {
        let slow = try LoopbackServer { peer, _ in
            guard peer.readRequest() else { return }
            Thread.sleep(forTimeInterval: 1)
            peer.answer("slow")
        }
        defer { slow.stop() }
        let fast = try LoopbackServer { peer, _ in
            guard peer.readRequest() else { return }
            peer.answer("fast")
        }
        defer { fast.stop() }
        let exchanges = [try HTTPClient().start(slow.request()), try HTTPClient().start(fast.request())]
        // The slow exchange is stepped first in every round, so a blocking step would finish it first.
        let finished = driveTogether(exchanges)
        XCTAssertEqual(finished.map(\.index), [1, 0], "the exchange answered at once finishes first")
        XCTAssertEqual(finished.map { body($0.result) }, ["fast", "slow"])
    }

    /// A step that would have to wait returns nil at once with what to wait for.
    func testAdvanceReturnsNilWhileTheAnswerIsHeld() throws {
        let server = try LoopbackServer { peer, _ in
            guard peer.readRequest() else { return }
            peer.holdUntilReleased()
            peer.answer("late")
        }
        defer { server.stop() }
        let client = HTTPClient(configuration: .init(timeout: 60))
        let exchange = try client.start(server.request())
        try waitUntilSent(exchange)
        for _ in 0..<3 {
            let began = monotonicSeconds()
            XCTAssertNil(try exchange.advance())
            XCTAssertLessThan(monotonicSeconds() - began, 1, "advance() waited")
            XCTAssertEqual(exchange.interest?.events, Int16(POLLIN))
        }
        server.releaseHeldAnswers()
        XCTAssertEqual(driveTogether([exchange]).map { body($0.result) }, ["late"])
    }

    /// A cancelled exchange's connection is closed (the server reads end of stream) and never reused.
    func testCancelClosesTheConnection() throws {
        let sawEnd = DispatchSemaphore(value: 0)
        let server = try LoopbackServer { peer, index in
            guard peer.readRequest() else { return }
            if index == 0 {
                if peer.waitForEndOfStream() { sawEnd.signal() }
            } else {
                peer.answer("second")
            }
        }
        defer { server.stop() }
        let client = HTTPClient()
        let exchange = try client.start(server.request())
        try waitUntilSent(exchange)
        exchange.cancel()
        XCTAssertNil(exchange.interest)
        XCTAssertEqual(exchange.wakeAt, .infinity)
        exchange.cancel()
        XCTAssertEqual(sawEnd.wait(timeout: .now() + 20), .success, "the server did not see the connection close")

        let next = try client.start(server.request())
        XCTAssertEqual(driveTogether([next]).map { body($0.result) }, ["second"])
        XCTAssertEqual(client.connectionsOpened, 2, "the cancelled connection went back to the pool")
    }

    /// With the socket never ready, waking at `wakeAt` ends the exchange with `.readTimeout`.
    func testTheRequestDeadlineComesThroughWakeAt() throws {
        let server = try LoopbackServer { peer, _ in
            guard peer.readRequest() else { return }
            peer.holdUntilReleased()
        }
        defer { server.stop() }
        var request = server.request()
        request.timeout = 0.5
        let began = monotonicSeconds()
        let exchange = try HTTPClient().start(request)
        try waitUntilSent(exchange)
        XCTAssertEqual(exchange.wakeAt, began + 0.5, accuracy: 0.25)
        var timedOutPolls = 0
        var thrown: HTTPError?
        while monotonicSeconds() < began + 20 {
            do throws(HTTPError) {
                let response = try exchange.advance()
                XCTAssertNil(response)
            } catch {
                thrown = error
                break
            }
            let interest = try XCTUnwrap(exchange.interest)
            var entry = pollfd(fd: interest.descriptor, events: interest.events, revents: 0)
            let milliseconds = Int32(max(0, min(exchange.wakeAt, began + 20) - monotonicSeconds()) * 1000) + 1
            if poll(&entry, 1, milliseconds) == 0 { timedOutPolls += 1 }
        }
        XCTAssertEqual(thrown?.code, .readTimeout, "\(String(describing: thrown))")
        XCTAssertGreaterThan(monotonicSeconds() - began, 0.45)
        XCTAssertGreaterThan(timedOutPolls, 0, "the loop woke only for the deadline")
        XCTAssertNil(exchange.interest)
    }

    /// A kept-alive connection whose server stops answering: after the first-byte deadline
    /// the request goes once more on a new connection, in the same non-blocking exchange.
    func testASilentKeptAliveConnectionFallsBackToANewOne() throws {
        let server = try LoopbackServer { peer, index in
            guard peer.readRequest() else { return }
            if index == 0 {
                peer.answer("first")
                guard peer.readRequest() else { return }
                peer.holdUntilReleased()  // silent, as behind a middlebox that dropped the connection
            } else {
                peer.answer("fresh")
            }
        }
        defer { server.stop() }
        let client = HTTPClient(configuration: .init(timeout: 30, reusedConnectionTimeout: 0.3))
        XCTAssertEqual(driveTogether([try client.start(server.request())]).map { body($0.result) }, ["first"])
        XCTAssertEqual(client.connectionsOpened, 1)

        let began = monotonicSeconds()
        let exchange = try client.start(server.request())
        try waitUntilSent(exchange)
        XCTAssertEqual(exchange.wakeAt, began + 0.3, accuracy: 0.25, "the first-byte deadline, not the request's")
        XCTAssertEqual(driveTogether([exchange]).map { body($0.result) }, ["fresh"])
        XCTAssertEqual(client.connectionsOpened, 2)
        XCTAssertLessThan(monotonicSeconds() - began, 15, "the fallback waited out the request deadline")
    }

    // MARK: Helpers

    /// Steps `exchange` from a poll loop until the whole request is sent (it then waits to read).
    private func waitUntilSent(_ exchange: HTTPExchange) throws {
        let end = monotonicSeconds() + 20
        while true {
            XCTAssertNil(try exchange.advance())
            let interest = try XCTUnwrap(exchange.interest)
            // Over plain HTTP only a sent request waits to read.
            if interest.events == Int16(POLLIN) { return }
            guard monotonicSeconds() < end else { throw HTTPError(.writeTimeout, "the request was not sent in 20 s") }
            var entry = pollfd(fd: interest.descriptor, events: interest.events, revents: 0)
            _ = poll(&entry, 1, 100)
        }
    }

    private func body(_ result: Result<HTTPResponse, HTTPError>) -> String {
        switch result {
        case .success(let response): return String(decoding: response.body, as: UTF8.self)
        case .failure(let error): return "error: \(error)"
        }
    }

    /// Steps `exchanges` from one hand-written poll loop until each answered or threw:
    /// which finished, in the order they did.
    private func driveTogether(_ exchanges: [HTTPExchange], within limit: Double = 20,
                               file: StaticString = #filePath, line: UInt = #line)
        -> [(index: Int, result: Result<HTTPResponse, HTTPError>)] {
        var finished: [(index: Int, result: Result<HTTPResponse, HTTPError>)] = []
        var running = Array(exchanges.indices)
        let end = monotonicSeconds() + limit
        while true {
            for index in running {
                do throws(HTTPError) {
                    guard let response = try exchanges[index].advance() else { continue }
                    finished.append((index, .success(response)))
                } catch {
                    finished.append((index, .failure(error)))
                }
                running.removeAll { $0 == index }
            }
            if running.isEmpty { return finished }
            guard monotonicSeconds() < end else {
                XCTFail("not finished within \(limit) s", file: file, line: line)
                running.forEach { exchanges[$0].cancel() }
                return finished
            }
            var entries = running.map { index in
                let interest = exchanges[index].interest!
                return pollfd(fd: interest.descriptor, events: interest.events, revents: 0)
            }
            let wake = min(running.map { exchanges[$0].wakeAt }.min()!, end)
            let milliseconds = Int32(max(0, wake - monotonicSeconds()) * 1000) + 1
            _ = poll(&entries, nfds_t(entries.count), milliseconds)
        }
    }
}

/// A listener on 127.0.0.1 that hands each accepted connection, numbered from 0,
/// to `serve` on a thread of its own, and closes it when `serve` returns.
final class LoopbackServer: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let serve: @Sendable (LoopbackPeer, Int) -> Void
    fileprivate let held = DispatchSemaphore(value: 0)

    init(_ serve: @escaping @Sendable (LoopbackPeer, Int) -> Void) throws {
        self.serve = serve
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(listener, address, length) == 0 && listen(listener, 16) == 0
                    && getsockname(listener, address, &length) == 0
            }
        }
        guard listener >= 0, bound else { throw HTTPError(.system, "cannot listen on 127.0.0.1") }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in acceptConnections() }.start()
    }

    /// A GET of this server's `/`.
    func request() -> HTTPRequest {
        HTTPRequest(url: try! HTTPURL("http://127.0.0.1:\(port)/"))
    }

    /// Lets every handler that holds its answer go on.
    func releaseHeldAnswers() {
        for _ in 0..<16 { held.signal() }
    }

    /// Stops accepting and releases held answers; handlers end on their own.
    func stop() {
        releaseHeldAnswers()
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func acceptConnections() {
        var index = 0
        while true {
            let descriptor = accept(listener, nil, nil)
            if descriptor < 0 {
                if errno == EINTR { continue }
                close(listener)
                return
            }
            let peer = LoopbackPeer(descriptor, server: self)
            let number = index
            index += 1
            Thread { [serve] in
                serve(peer, number)
                peer.close()
            }.start()
        }
    }
}

/// The server's end of one connection, with blocking calls that give up after 20 s.
final class LoopbackPeer: @unchecked Sendable {
    private let descriptor: Int32
    private let server: LoopbackServer

    fileprivate init(_ descriptor: Int32, server: LoopbackServer) {
        self.descriptor = descriptor
        self.server = server
        var limit = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The last request head `readRequest()` read.
    private(set) var lastHead = ""

    /// Reads one request head, byte by byte so that nothing after it is taken; false at end of stream.
    func readRequest() -> Bool {
        var head: [UInt8] = []
        var byte: UInt8 = 0
        while !head.reversed().starts(with: [10, 13, 10, 13]) {
            guard recv(descriptor, &byte, 1, 0) == 1 else { return false }
            head.append(byte)
        }
        lastHead = String(decoding: head, as: UTF8.self)
        return true
    }

    /// Sends a 200 response with `body`, keeping the connection open.
    func answer(_ body: String) {
        let bytes = Array("HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
        _ = send(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL))
    }

    /// Waits (at most 20 s) until the test lets held answers go.
    func holdUntilReleased() {
        _ = server.held.wait(timeout: .now() + 20)
    }

    /// Whether the client closed the connection (rather than sending more or nothing for 20 s).
    func waitForEndOfStream() -> Bool {
        var byte: UInt8 = 0
        return recv(descriptor, &byte, 1, 0) == 0
    }

    fileprivate func close() {
        Glibc.close(descriptor)
    }
}

import Glibc
import XCTest
@testable import HTTPLite

/// The connection state machine alone, event by event, with no socket.
final class ServerConnectionTests: XCTestCase {
    private let limits = ServerLimits(headTimeout: 10, idleTimeout: 30, writeTimeout: 10, lingerTimeout: 2)

    private func connection(at now: Double = 100) -> ServerConnection {
        ServerConnection(descriptor: 7, now: now, limits: limits, date: { "Thu, 03 Dec 2026 07:50:00 GMT" }) { path in
            path == "/metrics" ? HTTPServerResponse(status: 200, contentType: "text/plain; version=0.0.4", body: Array("m 1\n".utf8))
                : HTTPServerResponse(status: 404, text: "not found")
        }
    }

    private func text(_ bytes: ArraySlice<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

    func testAGetIsAnsweredAndTheConnectionWaitsIdleForTheNext() {
        var connection = connection()
        XCTAssertEqual(connection.events, Int16(POLLIN))
        XCTAssertEqual(connection.deadline, 110)
        XCTAssertEqual(connection.received(Array("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n".utf8)[...], now: 101), .write)
        XCTAssertEqual(connection.events, Int16(POLLOUT))
        XCTAssertEqual(text(connection.pendingOutput), "HTTP/1.1 200 OK\r\nDate: Thu, 03 Dec 2026 07:50:00 GMT\r\nContent-Type: text/plain; version=0.0.4\r\n"
                       + "Content-Length: 4\r\nCache-Control: no-store\r\n\r\nm 1\n")
        XCTAssertEqual(connection.deadline, 111)
        XCTAssertEqual(connection.sent(10, now: 102), .write)
        XCTAssertTrue(text(connection.pendingOutput).hasPrefix("00 OK\r\nDate: "))
        XCTAssertEqual(connection.sent(connection.pendingOutput.count, now: 102), .read)
        XCTAssertEqual(connection.state, .reading(deadline: 132))
        XCTAssertEqual(connection.waitingSince, 102)
    }

    func testHeadHasGetsHeadersWithoutTheBody() {
        var connection = connection()
        _ = connection.received(Array("HEAD /metrics HTTP/1.1\r\nHost: a\r\n\r\n".utf8)[...], now: 100)
        let response = text(connection.pendingOutput)
        XCTAssertTrue(response.contains("Content-Length: 4\r\n"))
        XCTAssertTrue(response.hasSuffix("\r\n\r\n"))
    }

    func testOtherMethodsGet405WithAllow() {
        var connection = connection()
        _ = connection.received(Array("DELETE /metrics HTTP/1.1\r\nHost: a\r\n\r\n".utf8)[...], now: 100)
        let response = text(connection.pendingOutput)
        XCTAssertTrue(response.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"))
        XCTAssertTrue(response.contains("\r\nAllow: GET, HEAD\r\n"))
    }

    func testARefusedHeadIsAnsweredThenTheConnectionLingersAndCloses() {
        var connection = connection()
        XCTAssertEqual(connection.received(Array("GET /a HTTP/1.1\r\nHost : a\r\n\r\n".utf8)[...], now: 100), .write)
        let response = text(connection.pendingOutput)
        XCTAssertTrue(response.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        XCTAssertTrue(response.contains("\r\nConnection: close\r\n"))
        XCTAssertEqual(connection.sent(response.utf8.count, now: 101), .shutDownWritesAndLinger)
        XCTAssertEqual(connection.state, .lingering(deadline: 103))
        XCTAssertEqual(connection.received(Array("more junk".utf8)[...], now: 101.5), .read)
        XCTAssertEqual(connection.timePassed(now: 102.9), .read)
        XCTAssertEqual(connection.timePassed(now: 103), .close)
        XCTAssertEqual(connection.events, nil)
    }

    func testPipelinedRequestsAreAnsweredInOrder() {
        var connection = connection()
        let two = "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\nGET /other HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        XCTAssertEqual(connection.received(Array(two.utf8)[...], now: 100), .write)
        XCTAssertTrue(text(connection.pendingOutput).hasPrefix("HTTP/1.1 200 OK"))
        XCTAssertEqual(connection.sent(connection.pendingOutput.count, now: 100), .write)
        XCTAssertTrue(text(connection.pendingOutput).hasPrefix("HTTP/1.1 404 Not Found"))
        XCTAssertEqual(connection.sent(connection.pendingOutput.count, now: 100), .shutDownWritesAndLinger)
    }

    func testHTTP10KeepAliveIsSaid() {
        var connection = connection()
        _ = connection.received(Array("GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n".utf8)[...], now: 100)
        XCTAssertTrue(text(connection.pendingOutput).contains("\r\nConnection: keep-alive\r\n"))
        XCTAssertEqual(connection.sent(connection.pendingOutput.count, now: 100), .read)
        var plain = self.connection()
        _ = plain.received(Array("GET /metrics HTTP/1.0\r\n\r\n".utf8)[...], now: 100)
        XCTAssertTrue(text(plain.pendingOutput).contains("\r\nConnection: close\r\n"))
    }

    /// A slow client does not push its head's deadline on by trickling bytes.
    func testTrickledBytesDoNotExtendTheHeadDeadline() {
        var connection = connection(at: 100)
        for (index, byte) in "GET /metrics HTTP/1.1\r\n".utf8.enumerated() {
            XCTAssertEqual(connection.received([byte], now: 100 + Double(index) * 0.4), .read)
        }
        XCTAssertEqual(connection.deadline, 110)
        XCTAssertEqual(connection.timePassed(now: 110), .close)
    }

    /// After an idle wait, the next head has `headTimeout` from its first byte.
    func testTheHeadClockStartsAtTheFirstByteAfterIdle() {
        var connection = connection(at: 100)
        _ = connection.received(Array("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n".utf8)[...], now: 100)
        _ = connection.sent(connection.pendingOutput.count, now: 100)
        XCTAssertEqual(connection.deadline, 130)
        XCTAssertEqual(connection.received(Array("GE".utf8)[...], now: 125), .read)
        XCTAssertEqual(connection.deadline, 135)
        XCTAssertEqual(connection.received(Array("T".utf8)[...], now: 126), .read)
        XCTAssertEqual(connection.deadline, 135)
        var later = self.connection(at: 100)
        _ = later.received(Array("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n".utf8)[...], now: 100)
        _ = later.sent(later.pendingOutput.count, now: 100)
        _ = later.received(Array("GE".utf8)[...], now: 105)
        XCTAssertEqual(later.deadline, 115)
    }

    func testThePeerEndingMidResponseClosesAfterIt() {
        var connection = connection()
        _ = connection.received(Array("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n".utf8)[...], now: 100)
        XCTAssertEqual(connection.peerClosed(now: 100), .write)
        XCTAssertEqual(connection.sent(connection.pendingOutput.count, now: 100), .close)
        var idle = self.connection()
        XCTAssertEqual(idle.peerClosed(now: 100), .close)
    }

    func testAResponseThatDoesNotLeaveTimesOut() {
        var connection = connection()
        _ = connection.received(Array("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n".utf8)[...], now: 105)
        XCTAssertEqual(connection.timePassed(now: 114.9), .write)
        XCTAssertEqual(connection.timePassed(now: 115), .close)
    }

    func testHTTPDates() {
        XCTAssertEqual(httpDate(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(httpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT")
        XCTAssertEqual(httpDate(1_803_973_800), "Tue, 02 Mar 2027 07:50:00 GMT")
    }
}

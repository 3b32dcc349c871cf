import HTTPLite
import XCTest
@testable import Watcher

final class StopRetriesTests: XCTestCase {
    private func failure(_ status: Int, retryAfter: Double? = nil) -> APIFailure {
        APIFailure(.status(status), reason: "Reason", message: "message", retryAfter: retryAfter)
    }

    func testRetryableFailuresAreTriedAgainSoon() throws {
        for status in [409, 429, 500, 503] {
            var stop = StopRetries(deadline: 1.5)
            let delay = try XCTUnwrap(stop.delay(after: failure(status), now: 0, random: 0.5), "\(status)")
            XCTAssertLessThanOrEqual(delay, 0.05, "\(status)")
        }
    }

    func testTheBackoffGrowsButStaysShort() throws {
        var stop = StopRetries(deadline: 100)
        var delays: [Double] = []
        for _ in 0..<6 { delays.append(try XCTUnwrap(stop.delay(after: failure(503), now: 0, random: 1))) }
        XCTAssertEqual(delays, [0.05, 0.1, 0.2, 0.25, 0.25, 0.25])
    }

    func testFailuresThatWaitingWillNotMendEndTheTries() {
        for status in [401, 403, 404, 422] {
            var stop = StopRetries(deadline: 1.5)
            XCTAssertNil(stop.delay(after: failure(status), now: 0, random: 0.5), "\(status)")
        }
        var stop = StopRetries(deadline: 1.5)
        XCTAssertNil(stop.delay(after: APIFailure(.outOfTime, reason: "timeout", message: ""), now: 0, random: 0.5))
        XCTAssertNil(stop.delay(after: APIFailure(.transport(.tlsConfiguration), reason: "", message: ""),
                                now: 0, random: 0.5))
    }

    func testRetryAfterIsHonouredOnlyWhenItFits() {
        var stop = StopRetries(deadline: 1.5)
        XCTAssertEqual(stop.delay(after: failure(429, retryAfter: 1), now: 0.2, random: 1), 1)
        var late = StopRetries(deadline: 1.5)
        XCTAssertEqual(late.delay(after: failure(429, retryAfter: 30), now: 0.2, random: 1), 0.05)
    }

    func testNoTryIsStartedWithoutTimeForIt() {
        var stop = StopRetries(deadline: 1.5)
        XCTAssertNil(stop.delay(after: failure(503), now: 1.45, random: 1))
    }

    func testTheThirdSignalEndsTheStop() {
        var stop = StopRetries(deadline: 1.5)
        XCTAssertFalse(stop.signalled(), "the second signal of all is ignored")
        XCTAssertTrue(stop.signalled(), "the third ends the stop")
    }
}

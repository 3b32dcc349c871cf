import XCTest
@testable import Watcher

final class RepeatedWarningTests: XCTestCase {
    func testTheFirstFailureIsLoggedThenOneSummaryPerPeriod() {
        var warning = RepeatedWarning(period: 60)
        XCTAssertEqual(warning.failed(now: 100), .logFirst)
        // A check every 0.1 s for the next minute: all quiet.
        for tick in 1..<600 {
            XCTAssertEqual(warning.failed(now: 100 + Double(tick) / 10), .stayQuiet, "tick \(tick)")
        }
        XCTAssertEqual(warning.failed(now: 160), .logSummary(failures: 601, unlogged: 600, failingFor: 60))
        XCTAssertEqual(warning.failed(now: 160.1), .stayQuiet)
        XCTAssertEqual(warning.failed(now: 219.9), .stayQuiet)
        // The period counts from the last line, not from the first failure.
        XCTAssertEqual(warning.failed(now: 220.5), .logSummary(failures: 604, unlogged: 3, failingFor: 120.5))
    }

    func testRecoveryReportsTheFailuresAndHowLongItWasDown() {
        var warning = RepeatedWarning(period: 60)
        XCTAssertEqual(warning.succeeded(now: 5), .nothing, "working from the start: nothing to say")
        _ = warning.failed(now: 10)
        _ = warning.failed(now: 11)
        _ = warning.failed(now: 12)
        XCTAssertEqual(warning.succeeded(now: 13.5), .logRecovered(failures: 3, failedFor: 3.5))
        XCTAssertEqual(warning.succeeded(now: 14), .nothing, "recovery is told once")
    }

    func testAFailureAfterARecoveryIsLoggedInFullAgain() {
        var warning = RepeatedWarning(period: 60)
        XCTAssertEqual(warning.failed(now: 0), .logFirst)
        XCTAssertEqual(warning.failed(now: 1), .stayQuiet)
        XCTAssertEqual(warning.succeeded(now: 2), .logRecovered(failures: 2, failedFor: 2))
        XCTAssertEqual(warning.failed(now: 3), .logFirst)
        XCTAssertEqual(warning.succeeded(now: 4), .logRecovered(failures: 1, failedFor: 1))
    }

    func testRareFailuresAreEachLoggedAsSummaries() {
        // With checks further apart than the period, nothing is ever held back.
        var warning = RepeatedWarning(period: 60)
        XCTAssertEqual(warning.failed(now: 0), .logFirst)
        XCTAssertEqual(warning.failed(now: 120), .logSummary(failures: 2, unlogged: 1, failingFor: 120))
        XCTAssertEqual(warning.failed(now: 240), .logSummary(failures: 3, unlogged: 1, failingFor: 240))
    }
}

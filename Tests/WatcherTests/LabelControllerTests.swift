import XCTest
@testable import Watcher

final class LabelControllerTests: XCTestCase {
    private func controller(policy: Settings.UsageFailurePolicy = .keep, failures: Int = 3) -> LabelController {
        LabelController(threshold: 80, policy: policy, failureThreshold: failures)
    }

    func testPodWithoutTheLabelGetsYesWithoutAnEvent() {
        var state = controller()
        state.podRead(labelValue: nil)
        XCTAssertEqual(state.pendingWrite, Transition(accepting: true, event: nil))
        state.written(Transition(accepting: true, event: nil))
        XCTAssertNil(state.pendingWrite)
    }

    func testAtTheThresholdRejectsWithAWarning() throws {
        var state = controller()
        state.podRead(labelValue: "yes")
        state.sampled(percent: 80)
        let write = try XCTUnwrap(state.pendingWrite)
        XCTAssertFalse(write.accepting)
        XCTAssertEqual(write.event, .init(reason: .overThreshold,
                                          message: "Rejecting new connections. Echo container uses 80%, threshold is 80%"))
        state.written(write)
        state.sampled(percent: 95.5)
        XCTAssertNil(state.pendingWrite, "no second write while the label already says no")
    }

    func testBelowTheThresholdAcceptsAgain() throws {
        var state = controller()
        state.podRead(labelValue: "no")
        state.sampled(percent: 79.99)
        let write = try XCTUnwrap(state.pendingWrite)
        XCTAssertTrue(write.accepting)
        XCTAssertEqual(write.event?.type, "Normal")
        XCTAssertEqual(write.event?.reason, .belowThreshold)
        XCTAssertEqual(write.event?.message, "Accepting new connections. Echo container uses 79.99%, threshold is 80%")
    }

    func testAnOutsideChangeIsPutRight() {
        var state = controller()
        state.podRead(labelValue: "yes")
        state.sampled(percent: 10)
        XCTAssertNil(state.pendingWrite)
        state.podRead(labelValue: "no")
        XCTAssertEqual(state.pendingWrite?.labelValue, "yes")
        state.podRead(labelValue: "garbage")
        XCTAssertEqual(state.pendingWrite, Transition(accepting: true, event: nil), "garbage counts as accepting")
    }

    func testAMissingLabelCountsAsAcceptingSoBelowTheThresholdRecordsNoEvent() throws {
        var state = controller()
        state.podRead(labelValue: nil)
        state.sampled(percent: 10)
        XCTAssertEqual(state.pendingWrite, Transition(accepting: true, event: nil))
        state.podRead(labelValue: nil)
        state.sampled(percent: 90)
        XCTAssertEqual(try XCTUnwrap(state.pendingWrite).event?.reason, .overThreshold)
    }

    func testFailedSamplesKeepTheLabelByDefault() {
        var state = controller()
        state.podRead(labelValue: "yes")
        state.sampled(percent: 10)
        for _ in 0..<10 { state.sampleFailed("down") }
        XCTAssertNil(state.pendingWrite)
        XCTAssertEqual(state.consecutiveFailures, 10)
    }

    func testRejectPolicyActsAfterTheThreshold() throws {
        var state = controller(policy: .reject, failures: 3)
        state.podRead(labelValue: "yes")
        state.sampleFailed("down")
        state.sampleFailed("down")
        XCTAssertNil(state.pendingWrite)
        state.sampleFailed("down")
        let write = try XCTUnwrap(state.pendingWrite)
        XCTAssertFalse(write.accepting)
        XCTAssertEqual(write.event?.reason, .usageUnavailable)
        state.written(write)
        state.sampled(percent: 10)
        XCTAssertEqual(state.consecutiveFailures, 0)
        XCTAssertEqual(state.pendingWrite?.labelValue, "yes")
    }

    func testStoppingRejects() {
        var state = controller()
        state.podRead(labelValue: "yes")
        state.sampled(percent: 10)
        state.stopping(signal: "SIGTERM")
        XCTAssertEqual(state.pendingWrite?.labelValue, "no")
        XCTAssertEqual(state.pendingWrite?.event?.reason, .terminating)
    }

    func testPercentFormatting() {
        XCTAssertEqual(formatPercent(80), "80")
        XCTAssertEqual(formatPercent(80.5), "80.5")
        XCTAssertEqual(formatPercent(80.25), "80.25")
        XCTAssertEqual(formatPercent(80.05), "80.05")
        XCTAssertEqual(formatPercent(123.456), "123.46")
        XCTAssertEqual(formatPercent(0.004), "0")
    }

    func testBackoffGrowsToItsCapAndHonoursRetryAfter() {
        var backoff = Backoff(base: 0.5, cap: 4)
        XCTAssertEqual(backoff.nextDelay(retryAfter: nil, random: 1), 0.5, accuracy: 1e-9)
        XCTAssertEqual(backoff.nextDelay(retryAfter: nil, random: 1), 1, accuracy: 1e-9)
        XCTAssertEqual(backoff.nextDelay(retryAfter: nil, random: 0), 1, accuracy: 1e-9)  // 2 halved by jitter
        XCTAssertEqual(backoff.nextDelay(retryAfter: nil, random: 1), 4, accuracy: 1e-9)
        XCTAssertEqual(backoff.nextDelay(retryAfter: nil, random: 1), 4, accuracy: 1e-9)
        XCTAssertEqual(backoff.nextDelay(retryAfter: 7, random: 0), 7, accuracy: 1e-9)
        backoff.reset()
        XCTAssertEqual(backoff.nextDelay(retryAfter: nil, random: 1), 0.5, accuracy: 1e-9)
    }
}

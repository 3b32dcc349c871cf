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

    // MARK: Hysteresis: ACCEPT_PERCENT and FLIP_AFTER_SAMPLES

    private func hysteresis(accept: Double? = nil, samples: Int = 1, policy: Settings.UsageFailurePolicy = .keep,
                            failures: Int = 3, label: String? = "yes") -> LabelController {
        var state = LabelController(threshold: 75, acceptBelow: accept, flipAfterSamples: samples, policy: policy,
                                    failureThreshold: failures)
        state.podRead(labelValue: label)
        return state
    }

    /// Feeds `percents` (nil: a failed sample), writing every pending write as the loop would;
    /// the label after each sample.
    private func labels(_ state: inout LabelController, _ percents: [Double?]) -> [String] {
        percents.map { percent in
            if let percent { state.sampled(percent: percent) } else { state.sampleFailed("down") }
            if let write = state.pendingWrite { state.written(write) }
            return state.labelAtServer ?? "(none)"
        }
    }

    func testTheDefaultsAreTheOriginalRuleWithItsMessagesWordForWord() throws {
        let wobble: [Double] = [74.8, 75.2, 74.8, 75, 74.99, 80, 10, 75.2]
        var state = hysteresis()
        XCTAssertEqual(state.acceptBelow, 75)
        var messages: [String] = []
        for percent in wobble {
            state.sampled(percent: percent)
            // The original rule: at or above the threshold rejects, below accepts, at every sample.
            XCTAssertEqual(state.decision?.accepting, percent < 75, "\(percent)")
            if let write = state.pendingWrite {
                messages.append(try XCTUnwrap(write.event?.message))
                state.written(write)
            }
        }
        XCTAssertEqual(messages, [
            "Rejecting new connections. Echo container uses 75.2%, threshold is 75%",
            "Accepting new connections. Echo container uses 74.8%, threshold is 75%",
            "Rejecting new connections. Echo container uses 75%, threshold is 75%",
            "Accepting new connections. Echo container uses 74.99%, threshold is 75%",
            "Rejecting new connections. Echo container uses 80%, threshold is 75%",
            "Accepting new connections. Echo container uses 10%, threshold is 75%",
            "Rejecting new connections. Echo container uses 75.2%, threshold is 75%",
        ])
        // An explicit ACCEPT_PERCENT equal to MEMORY_PERCENT and one sample are the same thing.
        var explicit = hysteresis(accept: 75, samples: 1)
        var implicit = hysteresis()
        XCTAssertEqual(labels(&explicit, wobble), labels(&implicit, wobble))
    }

    func testInsideTheBandTheLabelStaysWhereItIs() throws {
        var state = hysteresis(accept: 70)
        // 80 -> 72 keeps no; 69 gives yes; going up, 72 keeps yes and 75 gives no.
        XCTAssertEqual(labels(&state, [80, 72, 70, 74.99]), ["no", "no", "no", "no"])
        state.sampled(percent: 69.99)
        let accept = try XCTUnwrap(state.pendingWrite)
        XCTAssertEqual(accept.event, .init(reason: .belowThreshold, message:
            "Accepting new connections. Echo container uses 69.99%, threshold is 75%, accepts again below 70%"))
        state.written(accept)
        XCTAssertEqual(labels(&state, [72, 74.99, 70]), ["yes", "yes", "yes"])
        state.sampled(percent: 75)
        XCTAssertEqual(state.pendingWrite?.event, .init(reason: .overThreshold, message:
            "Rejecting new connections. Echo container uses 75%, threshold is 75%, accepts again below 70%"))
    }

    func testAFlipNeedsTheSamplesInARowAndAnyOtherSampleEndsTheRun() throws {
        var state = hysteresis(samples: 3)
        XCTAssertEqual(labels(&state, [10]), ["yes"])
        XCTAssertEqual(labels(&state, [80, 80, 50, 80, 80, 74]), ["yes", "yes", "yes", "yes", "yes", "yes"],
                       "two high samples, then a low one: no run of three")
        XCTAssertEqual(labels(&state, [80, 80]), ["yes", "yes"])
        XCTAssertEqual(state.samplesAcross, 2)
        state.sampled(percent: 90)
        XCTAssertEqual(state.pendingWrite?.event, .init(reason: .overThreshold, message:
            "Rejecting new connections. Echo container uses 90%, threshold is 75%, flips after 3 samples in a row"))
        state.written(try XCTUnwrap(state.pendingWrite))
        XCTAssertEqual(state.samplesAcross, 0)
        // Back down likewise.
        XCTAssertEqual(labels(&state, [60, 60, 76, 60, 60]), ["no", "no", "no", "no", "no"])
        XCTAssertEqual(labels(&state, [60]), ["yes"])
    }

    func testTheBandAndTheRunTogether() {
        var state = hysteresis(accept: 70, samples: 2)
        XCTAssertEqual(labels(&state, [10, 80, 10, 80, 80]), ["yes", "yes", "yes", "yes", "no"])
        // Inside the band counts as staying: the run of low samples starts again.
        XCTAssertEqual(labels(&state, [60, 72, 60, 60]), ["no", "no", "no", "yes"])
        XCTAssertEqual(state.decision?.event?.message,
                       "Accepting new connections. Echo container uses 60%, threshold is 75%, accepts again below 70%, "
                       + "flips after 2 samples in a row")
    }

    func testTheFirstSampleDecidesAtOnceFromTheSideTheLabelWasFoundOn() {
        // No pod waits FLIP_AFTER_SAMPLES samples with an unknown decision.
        var yes = hysteresis(accept: 70, samples: 5, label: "yes")
        XCTAssertEqual(labels(&yes, [90]), ["no"])
        var none = hysteresis(accept: 70, samples: 5, label: nil)
        XCTAssertEqual(none.pendingWrite?.labelValue, "yes", "the label is ensured before any sample")
        XCTAssertEqual(labels(&none, [72]), ["yes"], "a pod without the label counts as accepting")
        var garbage = hysteresis(accept: 70, samples: 5, label: "maybe")
        XCTAssertEqual(labels(&garbage, [76]), ["no"])
        // Found rejecting (the watcher restarted while the pod rejected): the band applies from the start.
        var no = hysteresis(accept: 70, samples: 5, label: "no")
        XCTAssertEqual(labels(&no, [72]), ["no"])
        XCTAssertNil(no.pendingWrite)
        var noLow = hysteresis(accept: 70, samples: 5, label: "no")
        XCTAssertEqual(labels(&noLow, [69]), ["yes"])
        XCTAssertEqual(noLow.decision?.event?.reason, .belowThreshold)
        // Only the first: the second sample across waits for its run.
        XCTAssertEqual(labels(&noLow, [80, 80, 80, 80]), ["yes", "yes", "yes", "yes"])
        XCTAssertEqual(labels(&noLow, [80]), ["no"])
    }

    func testAFailedSampleNeitherCountsNorEndsTheRun() {
        var state = hysteresis(samples: 3)
        XCTAssertEqual(labels(&state, [10, 80, nil, 80, nil, nil]), ["yes", "yes", "yes", "yes", "yes", "yes"])
        XCTAssertEqual(state.samplesAcross, 2)
        XCTAssertEqual(labels(&state, [80]), ["no"], "the third good sample across, failures between")
        // Failed samples alone never flip anything with `keep`.
        XCTAssertEqual(labels(&state, Array(repeating: nil, count: 10)), Array(repeating: "no", count: 10))
        XCTAssertEqual(state.samplesAcross, 0)
    }

    func testTheRejectPolicyActsAtItsOwnCountAndTheSamplesAfterItNeedTheBandAndTheRun() throws {
        var state = hysteresis(accept: 70, samples: 2, policy: .reject, failures: 3)
        XCTAssertEqual(labels(&state, [10, nil, nil]), ["yes", "yes", "yes"])
        state.sampleFailed("down")
        XCTAssertEqual(state.pendingWrite?.event?.reason, .usageUnavailable, "FLIP_AFTER_SAMPLES does not delay it")
        state.written(try XCTUnwrap(state.pendingWrite))
        // The pod is rejecting now, whatever made it: below 70 twice in a row accepts again.
        XCTAssertEqual(labels(&state, [60, 72, 60, nil, 60]), ["no", "no", "no", "no", "yes"])
    }

    func testTheRejectPolicyActingStartsTheRunAgain() {
        var state = hysteresis(samples: 3, policy: .reject, failures: 2)
        XCTAssertEqual(labels(&state, [90, 60, 60]), ["no", "no", "no"])
        XCTAssertEqual(state.samplesAcross, 2)
        XCTAssertEqual(labels(&state, [nil, nil]), ["no", "no"])
        XCTAssertEqual(state.decision?.event?.reason, .usageUnavailable)
        XCTAssertEqual(state.samplesAcross, 0)
        XCTAssertEqual(labels(&state, [60, 60]), ["no", "no"])
        XCTAssertEqual(labels(&state, [60]), ["yes"])
    }

    func testTheDefaultsAcceptAtTheFirstGoodSampleAfterTheRejectPolicyActed() {
        var state = hysteresis(policy: .reject, failures: 1)
        XCTAssertEqual(labels(&state, [10, nil, 74.9, nil, 75]), ["yes", "no", "yes", "no", "no"])
    }

    func testTheStopRejectsAtOnceWhateverTheBandAndTheRun() {
        var state = hysteresis(accept: 70, samples: 5)
        XCTAssertEqual(labels(&state, [10]), ["yes"])
        state.stopping(signal: "SIGTERM")
        XCTAssertEqual(state.pendingWrite?.labelValue, "no")
        XCTAssertEqual(state.pendingWrite?.event?.reason, .terminating)
        XCTAssertEqual(labels(&state, [10, 10, 10, 10, 10, 10]), ["no", "no", "no", "no", "no", "no"],
                       "a sample after the signal does not undo the stop")
        XCTAssertEqual(state.decision?.event?.reason, .terminating)
    }

    func testTheControllerTheSettingsDescribe() throws {
        guard case .success(.run(let settings)) = Settings.parse(
            arguments: ["--accept-percent", "70", "--flip-after-samples=3"],
            environment: ["MEMORY_PERCENT": "80", "ON_USAGE_FAILURE": "reject", "USAGE_FAILURE_THRESHOLD": "4"]) else {
            return XCTFail("settings did not parse")
        }
        let state = LabelController(settings: settings)
        XCTAssertEqual(state.threshold, 80)
        XCTAssertEqual(state.acceptBelow, 70)
        XCTAssertEqual(state.flipAfterSamples, 3)
        XCTAssertEqual(state.policy, .reject)
        XCTAssertEqual(state.failureThreshold, 4)
        guard case .success(.run(let defaults)) = Settings.parse(arguments: [], environment: [:]) else {
            return XCTFail("no defaults")
        }
        let plain = LabelController(settings: defaults)
        XCTAssertEqual(plain.acceptBelow, 75, "ACCEPT_PERCENT unset is MEMORY_PERCENT")
        XCTAssertEqual(plain.flipAfterSamples, 1)
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

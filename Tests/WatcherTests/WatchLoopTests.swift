import HTTPLite
import XCTest
@testable import Watcher

/// Drives a fresh `WatchLoop` event by event and asserts each step it asks for.
final class WatchLoopTests: XCTestCase {
    private let wall = WallClock(seconds: 1_795_000_000, nanoseconds: 0)

    private func loop(threshold: Double = 75, policy: Settings.UsageFailurePolicy = .keep, failures: Int = 3,
                      testMode: Bool = false, interval: Double = 1, resync: Double = 30) -> WatchLoop {
        WatchLoop(rules: .init(interval: interval, resyncInterval: resync, startupTimeout: 60, testMode: testMode,
                               threshold: threshold, onUsageFailure: policy.rawValue),
                  decisions: LabelController(threshold: threshold, policy: policy, failureThreshold: failures),
                  pod: PodReference(namespace: "default", name: "some-pod", uid: ""),
                  explain: FailureExplainer(namespace: "default", podName: "some-pod",
                                            certificateAuthority: "KUBE_CA_PATH (ca.crt)"),
                  random: { 1 })
    }

    private func status(_ code: Int, retryAfter: Double? = nil) -> APIFailure {
        APIFailure(.status(code), reason: "Reason", message: "message", retryAfter: retryAfter)
    }

    private func transport(_ code: HTTPError.Code) -> APIFailure {
        APIFailure(.transport(code), reason: code.name, message: "detail")
    }

    private func messages(_ action: WatchLoop.Action) -> [String] {
        action.logs.map { $0.message }
    }

    private func eventReason(_ step: WatchLoop.Step) -> String? {
        guard case .recordEvent(let event) = step else { return nil }
        return event["reason"]?.stringValue
    }

    /// A loop that has read the pod (label `value`) at time 0 and is about to sample.
    private func watching(_ value: String? = "yes", _ loop: WatchLoop? = nil) -> WatchLoop {
        var watch = loop ?? self.loop()
        XCTAssertEqual(watch.start(now: 0).step, .readPod)
        XCTAssertEqual(watch.podRead(labelValue: value, uid: "u1", now: 0).step, .sample)
        return watch
    }

    // MARK: How it decides

    func testAPodWithoutTheLabelGetsYesWithoutAnEvent() {
        var watch = watching(nil)
        XCTAssertEqual(watch.sampled(percent: 10, now: 0).step, .patchLabel("yes"))
        XCTAssertEqual(watch.patched(uid: "u1", now: 0, wall: wall).step, .waitUntil(1))
    }

    func testAtTheThresholdRejectsAndRecordsOverThreshold() {
        var watch = watching()
        XCTAssertEqual(watch.sampled(percent: 75, now: 0).step, .patchLabel("no"))
        let recorded = watch.patched(uid: "u1", now: 0, wall: wall)
        XCTAssertEqual(eventReason(recorded.step), "OverThreshold")
        XCTAssertEqual(messages(recorded), ["label set"])
        guard case .recordEvent(let event) = recorded.step else { return XCTFail("no Event") }
        XCTAssertEqual(event["type"]?.stringValue, "Warning")
        XCTAssertEqual(event["message"]?.stringValue, "Rejecting new connections. Echo container uses 75%, threshold is 75%")
        XCTAssertEqual(event["involvedObject"]?["uid"]?.stringValue, "u1")
        XCTAssertEqual(watch.eventRecorded(now: 0).step, .waitUntil(1))
        XCTAssertEqual(watch.tick(now: 1).step, .sample)
        XCTAssertEqual(watch.sampled(percent: 90, now: 1).step, .waitUntil(2), "no second write while it says no")
    }

    func testBelowTheThresholdAcceptsAgainWithBelowThreshold() {
        var watch = watching("no")
        XCTAssertEqual(watch.sampled(percent: 74.99, now: 0).step, .patchLabel("yes"))
        XCTAssertEqual(eventReason(watch.patched(uid: "u1", now: 0, wall: wall).step), "BelowThreshold")
    }

    func testAFailedSampleKeepsTheLabelAndIsLoggedOnce() {
        var watch = watching()
        let first = watch.sampleFailed(UsageFailure(description: "refused"), now: 0)
        XCTAssertEqual(first.step, .waitUntil(1))
        XCTAssertTrue(messages(first).contains("the Usage API failed; keeping the last decision"))
        XCTAssertEqual(watch.tick(now: 1).step, .sample)
        let second = watch.sampleFailed(UsageFailure(description: "refused"), now: 1)
        XCTAssertEqual(second.logs.filter { $0.level >= .warning }.count, 0, "logged once, then once a minute")
        XCTAssertEqual(watch.tick(now: 2).step, .sample)
        XCTAssertEqual(messages(watch.sampled(percent: 10, now: 2)), ["sample", "the Usage API answers again"])
    }

    func testRejectPolicyTurnsNoAfterTheFailureThreshold() {
        var watch = watching("yes", loop(policy: .reject, failures: 2))
        XCTAssertEqual(watch.sampleFailed(UsageFailure(description: "down"), now: 0).step, .waitUntil(1))
        XCTAssertEqual(watch.tick(now: 1).step, .sample)
        XCTAssertEqual(watch.sampleFailed(UsageFailure(description: "down"), now: 1).step, .patchLabel("no"))
        XCTAssertEqual(eventReason(watch.patched(uid: "u1", now: 1, wall: wall).step), "UsageUnavailable")
    }

    func testAnInterruptedSampleIsNotAFailure() {
        var watch = watching()
        let action = watch.sampleFailed(UsageFailure(description: "interrupted", interrupted: true), now: 0)
        XCTAssertEqual(action.step, .waitUntil(1))
        XCTAssertTrue(action.logs.isEmpty)
    }

    func testASlowCheckSkipsTicksRatherThanBursting() {
        var watch = watching()
        XCTAssertEqual(watch.sampled(percent: 10, now: 3.5).step, .waitUntil(3.5))
    }

    // MARK: Re-reads

    func testThePodIsReadAgainEveryResyncIntervalAndAnOutsideChangeIsPutRight() {
        var watch = watching("yes", loop(resync: 2))
        XCTAssertEqual(watch.sampled(percent: 10, now: 0).step, .waitUntil(1))
        XCTAssertEqual(watch.tick(now: 1).step, .sample)
        XCTAssertEqual(watch.sampled(percent: 10, now: 1).step, .waitUntil(2))
        XCTAssertEqual(watch.tick(now: 2).step, .sample)
        XCTAssertEqual(watch.sampled(percent: 10, now: 2).step, .readPod)
        let read = watch.podRead(labelValue: "no", uid: "u1", now: 2)
        XCTAssertEqual(read.step, .patchLabel("yes"))
        XCTAssertEqual(messages(read), ["the label was changed outside the watcher"])
    }

    func testAFailedReadIsTriedAgainWithinFiveSeconds() {
        var watch = watching("yes", loop(resync: 30))
        for second in 0..<30 {
            XCTAssertEqual(watch.sampled(percent: 10, now: Double(second)).step, .waitUntil(Double(second + 1)))
            XCTAssertEqual(watch.tick(now: Double(second + 1)).step, .sample)
        }
        XCTAssertEqual(watch.sampled(percent: 10, now: 30).step, .readPod)
        XCTAssertEqual(watch.podReadFailed(status(503), now: 30).step, .waitUntil(31))
        for second in 31...34 {
            XCTAssertEqual(watch.tick(now: Double(second)).step, .sample)
            XCTAssertEqual(watch.sampled(percent: 10, now: Double(second)).step, .waitUntil(Double(second + 1)))
        }
        XCTAssertEqual(watch.tick(now: 35).step, .sample)
        XCTAssertEqual(watch.sampled(percent: 10, now: 35).step, .readPod)
    }

    // MARK: Write faults

    func testARetryableWriteFailureBacksOffHonouringRetryAfter() {
        var watch = watching()
        XCTAssertEqual(watch.sampled(percent: 90, now: 0).step, .patchLabel("no"))
        let failed = watch.patchFailed(status(429, retryAfter: 4), now: 0)
        XCTAssertEqual(failed.step, .waitUntil(1))
        XCTAssertEqual(messages(failed), ["setting the label failed; will retry"])
        for second in 1...3 {
            XCTAssertEqual(watch.tick(now: Double(second)).step, .sample)
            XCTAssertEqual(watch.sampled(percent: 90, now: Double(second)).step, .waitUntil(Double(second + 1)))
        }
        XCTAssertEqual(watch.tick(now: 4).step, .sample)
        XCTAssertEqual(watch.sampled(percent: 90, now: 4).step, .patchLabel("no"))
    }

    func testServerErrorsBackOffExponentially() {
        var watch = watching()
        XCTAssertEqual(watch.sampled(percent: 90, now: 0).step, .patchLabel("no"))
        XCTAssertEqual(watch.patchFailed(status(503), now: 0).step, .waitUntil(1))  // next write at 0.5
        XCTAssertEqual(watch.tick(now: 1).step, .sample)
        XCTAssertEqual(watch.sampled(percent: 90, now: 1).step, .patchLabel("no"))
        XCTAssertEqual(watch.patchFailed(status(500), now: 1).step, .waitUntil(2))  // next write at 2
        XCTAssertEqual(watch.tick(now: 2).step, .sample)
        XCTAssertEqual(watch.sampled(percent: 90, now: 2).step, .patchLabel("no"))
        XCTAssertEqual(watch.patchFailed(transport(.readTimeout), now: 2).step, .waitUntil(3))  // next at 4
        XCTAssertEqual(watch.tick(now: 3).step, .sample)
        XCTAssertEqual(watch.sampled(percent: 90, now: 3).step, .waitUntil(4))
    }

    func testAConflictReadsThePodBeforeWritingAgain() {
        var watch = watching()
        XCTAssertEqual(watch.sampled(percent: 90, now: 0).step, .patchLabel("no"))
        XCTAssertEqual(watch.patchFailed(status(409), now: 0).step, .readPod)
        XCTAssertEqual(watch.podRead(labelValue: "no", uid: "u1", now: 0).step, .waitUntil(1),
                       "someone else wrote no: nothing left to write")
    }

    func testForbiddenAndNotFoundAreLoggedAsErrorsThatNameTheCause() {
        for (code, text) in [(401, "rejected the token"), (403, "must grant \"patch\" on \"pods\""), (404, "not found"),
                             (422, "refused to patch pods")] {
            var watch = watching()
            XCTAssertEqual(watch.sampled(percent: 90, now: 0).step, .patchLabel("no"))
            let failed = watch.patchFailed(status(code), now: 0)
            XCTAssertEqual(failed.logs.first?.level, .error, "\(code)")
            XCTAssertTrue(messages(failed).first?.contains(text) ?? false, "\(code): \(messages(failed))")
        }
    }

    func testAGoodReadEndsTheWriteBackoff() {
        var watch = watching("yes", loop(resync: 1))
        XCTAssertEqual(watch.sampled(percent: 90, now: 0).step, .patchLabel("no"))
        XCTAssertEqual(watch.patchFailed(status(503, retryAfter: 30), now: 0).step, .waitUntil(1))
        XCTAssertEqual(watch.tick(now: 1).step, .sample)
        XCTAssertEqual(watch.sampled(percent: 90, now: 1).step, .readPod)
        XCTAssertEqual(watch.podRead(labelValue: "yes", uid: "u1", now: 1).step, .patchLabel("no"))
    }

    func testAnInterruptedWriteIsNeitherLoggedNorBackedOff() {
        var watch = watching()
        XCTAssertEqual(watch.sampled(percent: 90, now: 0).step, .patchLabel("no"))
        let failed = watch.patchFailed(transport(.interrupted), now: 0)
        XCTAssertTrue(failed.logs.isEmpty)
        XCTAssertEqual(failed.step, .waitUntil(1))
    }

    // MARK: Events

    func testAFailedEventIsKeptAndSentLaterAndADuplicateCountsAsRecorded() {
        var watch = watching()
        XCTAssertEqual(watch.sampled(percent: 90, now: 0).step, .patchLabel("no"))
        let event = watch.patched(uid: "u1", now: 0, wall: wall).step
        XCTAssertEqual(watch.eventFailed(status(503), now: 0).step, .waitUntil(1))
        XCTAssertEqual(watch.tick(now: 1).step, .sample)
        XCTAssertEqual(watch.sampled(percent: 90, now: 1).step, event, "the same Event, with the same name")
        let duplicate = watch.eventFailed(status(409), now: 1)
        XCTAssertEqual(duplicate.step, .waitUntil(2))
        XCTAssertEqual(watch.tick(now: 2).step, .sample)
        XCTAssertEqual(watch.sampled(percent: 90, now: 2).step, .waitUntil(3), "nothing left to send")
    }

    // MARK: Start

    func testStartRetriesAnUnreachableAPIServerThenGivesUp() {
        var watch = loop()
        XCTAssertEqual(watch.start(now: 0).step, .readPod)
        let retry = watch.podReadFailed(transport(.refused), now: 0)
        XCTAssertEqual(retry.step, .waitUntil(0.5))
        XCTAssertEqual(messages(retry), ["the API server is not reachable yet; retrying"])
        XCTAssertEqual(watch.tick(now: 0.5).step, .readPod)
        XCTAssertEqual(watch.podReadFailed(transport(.refused), now: 59.5).step, .waitUntil(60), "cut to the deadline")
        XCTAssertEqual(watch.tick(now: 60).step, .readPod)
        let gaveUp = watch.podReadFailed(transport(.refused), now: 60)
        XCTAssertEqual(gaveUp.step, .exit(1))
        XCTAssertEqual(messages(gaveUp), ["the API server could not be reached"])
    }

    func testStartStopsAtOnceOnFailuresWaitingWillNotMend() {
        for code in [401, 403, 404, 409] {
            var watch = loop()
            XCTAssertEqual(watch.start(now: 0).step, .readPod)
            let action = watch.podReadFailed(status(code), now: 0)
            XCTAssertEqual(action.step, .exit(1), "\(code)")
            XCTAssertEqual(action.logs.first?.level, .error)
        }
        var rejected = loop()
        _ = rejected.start(now: 0)
        let certificate = rejected.podReadFailed(transport(.certificateRejected), now: 0)
        XCTAssertEqual(certificate.step, .exit(1))
        XCTAssertEqual(messages(certificate), ["the API server's certificate did not verify against the CA from KUBE_CA_PATH (ca.crt)"])
        var watch = loop()
        _ = watch.start(now: 0)
        let missing = watch.podReadFailed(status(404), now: 0)
        XCTAssertTrue(missing.logs.first?.fields.contains { $0.key == "hint" && $0.value.contains("POD_NAME") } ?? false)
    }

    func testTestModeRunsOneCheckAndExits() {
        var ok = watching("yes", loop(testMode: true))
        XCTAssertEqual(ok.sampled(percent: 90, now: 0).step, .patchLabel("no"))
        XCTAssertEqual(eventReason(ok.patched(uid: "u1", now: 0, wall: wall).step), "OverThreshold")
        XCTAssertEqual(ok.eventRecorded(now: 0).step, .exit(0))
        var failed = watching("yes", loop(testMode: true))
        XCTAssertEqual(failed.sampleFailed(UsageFailure(description: "down"), now: 0).step, .exit(1))
    }

    // MARK: Stop

    func testASignalSetsNoEvenWhenTheLabelReadsNoAndRecordsTerminating() {
        var watch = watching("no")
        XCTAssertEqual(watch.sampled(percent: 90, now: 0).step, .waitUntil(1))
        let stopping = watch.signal("SIGTERM", now: 0.5)
        XCTAssertEqual(stopping.step, .patchLabel("no"))
        XCTAssertEqual(stopping.deadline, 2.0)
        XCTAssertEqual(messages(stopping), ["stopping: rejecting new connections"])
        let event = watch.patched(uid: "u1", now: 0.6, wall: wall)
        XCTAssertEqual(eventReason(event.step), "Terminating")
        XCTAssertEqual(event.deadline, 2.0)
        let done = watch.eventRecorded(now: 0.7)
        XCTAssertEqual(done.step, .exit(0))
        XCTAssertEqual(messages(done), ["stopped"])
    }

    func testASignalDuringStartRetriesStillSetsNo() {
        var watch = loop()
        _ = watch.start(now: 0)
        XCTAssertEqual(watch.podReadFailed(status(503), now: 0).step, .waitUntil(0.5))
        XCTAssertEqual(watch.signal("SIGTERM", now: 0.2).step, .patchLabel("no"))
    }

    func testAFailedStopPatchIsTriedAgainWithinTheBudget() {
        var watch = watching()
        _ = watch.sampled(percent: 10, now: 0)
        XCTAssertEqual(watch.signal("SIGTERM", now: 0).step, .patchLabel("no"))
        let retry = watch.patchFailed(status(503), now: 0)
        XCTAssertEqual(retry.step, .waitUntil(0.05))
        XCTAssertEqual(watch.tick(now: 0.05).step, .patchLabel("no"))
        XCTAssertEqual(watch.patchFailed(status(429, retryAfter: 30), now: 0.1).step, .waitUntil(0.2),
                       "a Retry-After that does not fit is not honoured")
        XCTAssertEqual(watch.tick(now: 0.2).step, .patchLabel("no"))
        let gaveUp = watch.patchFailed(status(403), now: 0.3)
        XCTAssertEqual(gaveUp.step, .exit(0))
        XCTAssertEqual(messages(gaveUp), ["could not set the label before stopping", "stopped"])
    }

    func testTheStopEndsWhenItsBudgetIsSpent() {
        var watch = watching()
        _ = watch.sampled(percent: 10, now: 0)
        _ = watch.signal("SIGTERM", now: 0)
        XCTAssertEqual(watch.patchFailed(transport(.readTimeout), now: 1.48).step, .exit(0))
    }

    func testASecondSignalIsIgnoredAndAThirdEndsTheStop() {
        var watch = watching()
        _ = watch.sampled(percent: 10, now: 0)
        _ = watch.signal("SIGTERM", now: 0)
        XCTAssertEqual(watch.patchFailed(transport(.interrupted), now: 0.15).step, .waitUntil(0.15))
        XCTAssertEqual(watch.signal("SIGINT", now: 0.15).step, .patchLabel("no"), "the second signal is ignored")
        XCTAssertEqual(watch.patchFailed(transport(.interrupted), now: 0.3).step, .waitUntil(0.3))
        let third = watch.signal("SIGINT", now: 0.3)
        XCTAssertEqual(third.step, .exit(0))
        XCTAssertEqual(messages(third), ["stopping at once", "could not set the label before stopping", "stopped"])
    }

    func testEventsPendingBeforeTheStopAreSentFirst() {
        var watch = watching()
        XCTAssertEqual(watch.sampled(percent: 90, now: 0).step, .patchLabel("no"))
        _ = watch.patched(uid: "u1", now: 0, wall: wall)
        XCTAssertEqual(watch.eventFailed(status(503), now: 0).step, .waitUntil(1))
        XCTAssertEqual(watch.signal("SIGTERM", now: 0.5).step, .patchLabel("no"))
        XCTAssertEqual(eventReason(watch.patched(uid: "u1", now: 0.6, wall: wall).step), "OverThreshold")
        XCTAssertEqual(eventReason(watch.eventRecorded(now: 0.7).step), "Terminating")
    }
}

import HTTPLite
import JSON
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

    private func eventReason(_ action: WatchLoop.Action) -> String? {
        guard action.steps.count == 1, case .recordEvent(let reason, let event) = action.steps[0] else { return nil }
        XCTAssertEqual(event["reason"]?.stringValue, reason.rawValue)
        return reason.rawValue
    }

    /// A loop that has read the pod (label `value`) at time 0 and is sampling.
    private func watching(_ value: String? = "yes", _ loop: WatchLoop? = nil) -> WatchLoop {
        var watch = loop ?? self.loop()
        XCTAssertEqual(watch.start(now: 0).steps, [.readPod])
        XCTAssertEqual(watch.podRead(labelValue: value, uid: "u1", now: 0).steps, [.sample])
        return watch
    }

    /// Asserts that `action` starts nothing and the loop waits until `time`.
    private func waits(_ action: WatchLoop.Action, _ watch: WatchLoop, until time: Double?,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(action.steps, [], "steps", file: file, line: line)
        XCTAssertEqual(watch.nextWake, time, "wake", file: file, line: line)
    }

    /// One check from its tick: the tick starts the sample, the sample's action is returned.
    private func check(_ watch: inout WatchLoop, percent: Double, at time: Double,
                       file: StaticString = #filePath, line: UInt = #line) -> WatchLoop.Action {
        XCTAssertEqual(watch.nextWake, time, "wake", file: file, line: line)
        XCTAssertEqual(watch.tick(now: time).steps, [.sample], file: file, line: line)
        return watch.sampled(percent: percent, now: time)
    }

    // MARK: How it decides

    func testAPodWithoutTheLabelGetsYesWithoutAnEvent() {
        var watch = watching(nil)
        XCTAssertEqual(watch.sampled(percent: 10, now: 0).steps, [.patchLabel("yes")])
        waits(watch.patched(uid: "u1", now: 0, wall: wall), watch, until: 1)
    }

    func testNothingIsWrittenBeforeTheFirstSample() {
        var watch = watching(nil)
        XCTAssertEqual(watch.nextWake, 30, "the sample is under way; the write waits for it, only the re-read is timed")
        XCTAssertEqual(watch.sampled(percent: 90, now: 0).steps, [.patchLabel("no")], "not yes first")
    }

    func testAtTheThresholdRejectsAndRecordsOverThreshold() {
        var watch = watching()
        XCTAssertEqual(watch.sampled(percent: 75, now: 0).steps, [.patchLabel("no")])
        let recorded = watch.patched(uid: "u1", now: 0, wall: wall)
        XCTAssertEqual(eventReason(recorded), "OverThreshold")
        XCTAssertEqual(messages(recorded), ["label set"])
        guard case .recordEvent(_, let event) = recorded.steps.first else { return XCTFail("no Event") }
        XCTAssertEqual(event["type"]?.stringValue, "Warning")
        XCTAssertEqual(event["message"]?.stringValue, "Rejecting new connections. Echo container uses 75%, threshold is 75%")
        XCTAssertEqual(event["involvedObject"]?["uid"]?.stringValue, "u1")
        waits(watch.eventRecorded(now: 0), watch, until: 1)
        waits(check(&watch, percent: 90, at: 1), watch, until: 2)  // no second write while it says no
    }

    func testBelowTheThresholdAcceptsAgainWithBelowThreshold() {
        var watch = watching("no")
        XCTAssertEqual(watch.sampled(percent: 74.99, now: 0).steps, [.patchLabel("yes")])
        XCTAssertEqual(eventReason(watch.patched(uid: "u1", now: 0, wall: wall)), "BelowThreshold")
    }

    func testAFailedSampleKeepsTheLabelAndIsLoggedOnce() {
        var watch = watching()
        let first = watch.sampleFailed(UsageFailure(.connection, "refused"), now: 0)
        waits(first, watch, until: 1)
        XCTAssertTrue(messages(first).contains("the Usage API failed; keeping the last decision"))
        XCTAssertEqual(watch.tick(now: 1).steps, [.sample])
        let second = watch.sampleFailed(UsageFailure(.connection, "refused"), now: 1)
        XCTAssertEqual(second.logs.filter { $0.level >= .warning }.count, 0, "logged once, then once a minute")
        XCTAssertEqual(messages(check(&watch, percent: 10, at: 2)), ["sample", "the Usage API answers again"])
    }

    func testRejectPolicyTurnsNoAfterTheFailureThreshold() {
        var watch = watching("yes", loop(policy: .reject, failures: 2))
        waits(watch.sampleFailed(UsageFailure(.connection, "down"), now: 0), watch, until: 1)
        XCTAssertEqual(watch.tick(now: 1).steps, [.sample])
        XCTAssertEqual(watch.sampleFailed(UsageFailure(.connection, "down"), now: 1).steps, [.patchLabel("no")])
        XCTAssertEqual(eventReason(watch.patched(uid: "u1", now: 1, wall: wall)), "UsageUnavailable")
    }

    func testASlowSampleSkipsTicksRatherThanBursting() {
        var watch = watching()
        XCTAssertEqual(watch.sampled(percent: 10, now: 3.5).steps, [.sample], "the next one at once, and only one")
        waits(watch.sampled(percent: 10, now: 3.6), watch, until: 4.5)
    }

    // MARK: Two lanes

    func testSamplingGoesOnWhileAPatchIsHeldAndTheLatestDecisionIsWrittenNext() {
        var watch = watching()
        XCTAssertEqual(watch.sampled(percent: 90, now: 0).steps, [.patchLabel("no")])
        // The API server holds the patch; every tick still samples, and decides.
        waits(check(&watch, percent: 10, at: 1), watch, until: 2)
        waits(check(&watch, percent: 95, at: 2), watch, until: 3)
        waits(check(&watch, percent: 20, at: 3), watch, until: 4)
        XCTAssertEqual(watch.tick(now: 4).steps, [.sample])
        // The held patch is answered while a sample is under way: the latest decision goes next.
        let answered = watch.patched(uid: "u1", now: 4.5, wall: wall)
        XCTAssertEqual(answered.steps, [.patchLabel("yes")])
        XCTAssertEqual(eventReason(watch.patched(uid: "u1", now: 4.6, wall: wall)), "OverThreshold")
        XCTAssertEqual(eventReason(watch.eventRecorded(now: 4.7)), "BelowThreshold")
        XCTAssertEqual(watch.labelAtServer, "yes")
    }

    func testAHeldSampleDelaysNoWrite() {
        var watch = watching("yes", loop(resync: 2))
        waits(watch.sampled(percent: 10, now: 0), watch, until: 1)
        XCTAssertEqual(watch.tick(now: 1).steps, [.sample])
        XCTAssertEqual(watch.nextWake, 2, "the re-read is due while the sample hangs")
        XCTAssertEqual(watch.tick(now: 2).steps, [.readPod])
        XCTAssertEqual(watch.podRead(labelValue: "no", uid: "u1", now: 2.1).steps, [.patchLabel("yes")])
    }

    // MARK: Re-reads

    func testThePodIsReadAgainEveryResyncIntervalAndAnOutsideChangeIsPutRight() {
        var watch = watching("yes", loop(resync: 2))
        waits(watch.sampled(percent: 10, now: 0), watch, until: 1)
        waits(check(&watch, percent: 10, at: 1), watch, until: 2)
        XCTAssertEqual(watch.tick(now: 2).steps, [.sample, .readPod])
        let read = watch.podRead(labelValue: "no", uid: "u1", now: 2)
        XCTAssertEqual(read.steps, [.patchLabel("yes")], "put right at once, by the last decision")
        XCTAssertEqual(messages(read), ["the label was changed outside the watcher"])
        XCTAssertEqual(watch.sampled(percent: 10, now: 2).steps, [])
    }

    func testAFailedReadIsTriedAgainWithinFiveSeconds() {
        var watch = watching("yes", loop(resync: 30))
        waits(watch.sampled(percent: 10, now: 0), watch, until: 1)
        for second in 1..<30 {
            waits(check(&watch, percent: 10, at: Double(second)), watch, until: Double(second + 1))
        }
        XCTAssertEqual(watch.tick(now: 30).steps, [.sample, .readPod])
        XCTAssertEqual(watch.podReadFailed(status(503), now: 30).steps, [])
        XCTAssertEqual(watch.sampled(percent: 10, now: 30).steps, [])
        for second in 31...34 {
            waits(check(&watch, percent: 10, at: Double(second)), watch, until: Double(second + 1))
        }
        XCTAssertEqual(watch.tick(now: 35).steps, [.sample, .readPod])
    }

    // MARK: Write faults

    func testARetryableWriteFailureBacksOffHonouringRetryAfter() {
        var watch = watching()
        XCTAssertEqual(watch.sampled(percent: 90, now: 0).steps, [.patchLabel("no")])
        let failed = watch.patchFailed(status(429, retryAfter: 4), now: 0)
        waits(failed, watch, until: 1)
        XCTAssertEqual(messages(failed), ["setting the label failed; will retry"])
        for second in 1...3 {
            waits(check(&watch, percent: 90, at: Double(second)), watch, until: Double(second + 1))
        }
        XCTAssertEqual(watch.tick(now: 4).steps, [.sample, .patchLabel("no")])
    }

    func testServerErrorsBackOffExponentially() {
        var watch = watching()
        XCTAssertEqual(watch.sampled(percent: 90, now: 0).steps, [.patchLabel("no")])
        waits(watch.patchFailed(status(503), now: 0), watch, until: 0.5)
        XCTAssertEqual(watch.tick(now: 0.5).steps, [.patchLabel("no")])
        waits(watch.patchFailed(status(500), now: 0.5), watch, until: 1)
        XCTAssertEqual(watch.tick(now: 1).steps, [.sample])
        waits(watch.sampled(percent: 90, now: 1), watch, until: 1.5)
        XCTAssertEqual(watch.tick(now: 1.5).steps, [.patchLabel("no")])
        waits(watch.patchFailed(transport(.readTimeout), now: 1.5), watch, until: 2)
        waits(check(&watch, percent: 90, at: 2), watch, until: 3)  // the next write at 3.5
        waits(check(&watch, percent: 90, at: 3), watch, until: 3.5)
    }

    func testAConflictReadsThePodBeforeWritingAgain() {
        var watch = watching()
        XCTAssertEqual(watch.sampled(percent: 90, now: 0).steps, [.patchLabel("no")])
        XCTAssertEqual(watch.patchFailed(status(409), now: 0).steps, [.readPod])
        waits(watch.podRead(labelValue: "no", uid: "u1", now: 0), watch, until: 1)  // someone else wrote no
    }

    func testForbiddenAndNotFoundAreLoggedAsErrorsThatNameTheCause() {
        for (code, text) in [(401, "rejected the token"), (403, "must grant \"patch\" on \"pods\""), (404, "not found"),
                             (422, "refused to patch pods")] {
            var watch = watching()
            XCTAssertEqual(watch.sampled(percent: 90, now: 0).steps, [.patchLabel("no")])
            let failed = watch.patchFailed(status(code), now: 0)
            XCTAssertEqual(failed.logs.first?.level, .error, "\(code)")
            XCTAssertTrue(messages(failed).first?.contains(text) ?? false, "\(code): \(messages(failed))")
        }
    }

    func testAGoodReadEndsTheWriteBackoff() {
        var watch = watching("yes", loop(resync: 1))
        XCTAssertEqual(watch.sampled(percent: 90, now: 0).steps, [.patchLabel("no")])
        waits(watch.patchFailed(status(503, retryAfter: 30), now: 0), watch, until: 1)
        XCTAssertEqual(watch.tick(now: 1).steps, [.sample, .readPod])
        XCTAssertEqual(watch.podRead(labelValue: "yes", uid: "u1", now: 1).steps, [.patchLabel("no")])
    }

    // MARK: Events

    func testAFailedEventIsKeptAndSentLaterAndADuplicateCountsAsRecorded() {
        var watch = watching()
        XCTAssertEqual(watch.sampled(percent: 90, now: 0).steps, [.patchLabel("no")])
        let event = watch.patched(uid: "u1", now: 0, wall: wall).steps
        waits(watch.eventFailed(status(503), now: 0), watch, until: 0.5)
        XCTAssertEqual(watch.tick(now: 0.5).steps, event, "the same Event, with the same name")
        let duplicate = watch.eventFailed(status(409), now: 0.5)
        waits(duplicate, watch, until: 1)
        XCTAssertEqual(duplicate.logs.count, 0, "a name taken by an earlier try is no error")
        waits(check(&watch, percent: 90, at: 1), watch, until: 2)  // nothing left to send
    }

    // MARK: Start

    func testStartRetriesAnUnreachableAPIServerThenGivesUp() {
        var watch = loop()
        XCTAssertEqual(watch.start(now: 0).steps, [.readPod])
        let retry = watch.podReadFailed(transport(.refused), now: 0)
        waits(retry, watch, until: 0.5)
        XCTAssertEqual(messages(retry), ["the API server is not reachable yet; retrying"])
        XCTAssertEqual(watch.tick(now: 0.5).steps, [.readPod])
        waits(watch.podReadFailed(transport(.refused), now: 59.5), watch, until: 60)  // cut to the deadline
        XCTAssertEqual(watch.tick(now: 60).steps, [.readPod])
        let gaveUp = watch.podReadFailed(transport(.refused), now: 60)
        XCTAssertEqual(gaveUp.steps, [.exit(1)])
        XCTAssertEqual(messages(gaveUp), ["the API server could not be reached"])
    }

    func testStartStopsAtOnceOnFailuresWaitingWillNotMend() {
        for code in [401, 403, 404, 409] {
            var watch = loop()
            XCTAssertEqual(watch.start(now: 0).steps, [.readPod])
            let action = watch.podReadFailed(status(code), now: 0)
            XCTAssertEqual(action.steps, [.exit(1)], "\(code)")
            XCTAssertEqual(action.logs.first?.level, .error)
        }
        var rejected = loop()
        _ = rejected.start(now: 0)
        let certificate = rejected.podReadFailed(transport(.certificateRejected), now: 0)
        XCTAssertEqual(certificate.steps, [.exit(1)])
        XCTAssertEqual(messages(certificate), ["the API server's certificate did not verify against the CA from KUBE_CA_PATH (ca.crt)"])
        var watch = loop()
        _ = watch.start(now: 0)
        let missing = watch.podReadFailed(status(404), now: 0)
        XCTAssertTrue(missing.logs.first?.fields.contains { $0.key == "hint" && $0.value.contains("POD_NAME") } ?? false)
    }

    func testTestModeRunsOneCheckAndExits() {
        var ok = watching("yes", loop(testMode: true))
        XCTAssertEqual(ok.sampled(percent: 90, now: 0).steps, [.patchLabel("no")])
        XCTAssertEqual(eventReason(ok.patched(uid: "u1", now: 0, wall: wall)), "OverThreshold")
        XCTAssertEqual(ok.eventRecorded(now: 0).steps, [.exit(0)])
        var failed = watching("yes", loop(testMode: true))
        XCTAssertEqual(failed.sampleFailed(UsageFailure(.connection, "down"), now: 0).steps, [.exit(1)])
        var unwritten = watching("yes", loop(testMode: true))
        XCTAssertEqual(unwritten.sampled(percent: 90, now: 0).steps, [.patchLabel("no")])
        XCTAssertEqual(unwritten.patchFailed(status(503), now: 0).steps, [.exit(1)])
    }

    // MARK: Events as client-go records them (EventCorrelator)

    /// One flip written at `time`: the sample that decides it, the label PATCH, and the step
    /// that records its Event (nil when none), the Event then accepted.
    private func flip(_ watch: inout WatchLoop, to percent: Double, at time: Double,
                      file: StaticString = #filePath, line: UInt = #line) -> (step: WatchLoop.Step?, log: LogLine?) {
        let value = percent >= 75 ? "no" : "yes"
        XCTAssertEqual(check(&watch, percent: percent, at: time, file: file, line: line).steps, [.patchLabel(value)],
                       file: file, line: line)
        let written = watch.patched(uid: "u1", now: time, wall: WallClock(seconds: wall.seconds + Int(time), nanoseconds: 0))
        let log = written.logs.first { $0.message == "label set" }
        guard let step = written.steps.first else { return (nil, log) }
        XCTAssertEqual(written.steps.count, 1, file: file, line: line)
        _ = watch.eventRecorded(now: time)
        return (step, log)
    }

    private func field(_ line: LogLine?, _ key: String) -> String? {
        line?.fields.first { $0.key == key }?.value
    }

    func testARepeatedEventIsAPatchOfTheFirstOnesCount() {
        var watch = watching()
        XCTAssertEqual(watch.sampled(percent: 90, now: 0).steps, [.patchLabel("no")])
        let first = watch.patched(uid: "u1", now: 0, wall: wall)
        guard case .recordEvent(.overThreshold, let created) = first.steps.first,
              let name = created["metadata"]?["name"]?.stringValue else { return XCTFail("no Event created") }
        XCTAssertEqual(field(first.logs.first, "event"), name)
        XCTAssertEqual(field(first.logs.first, "event_count"), "1")
        _ = watch.eventRecorded(now: 0)
        XCTAssertEqual(eventReasonOf(flip(&watch, to: 10, at: 1).step), "BelowThreshold")
        let again = flip(&watch, to: 90, at: 2)
        let patch: JSON = ["count": 2, "lastTimestamp": .string(WallClock(seconds: wall.seconds + 2, nanoseconds: 0).rfc3339),
                           "message": "Rejecting new connections. Echo container uses 90%, threshold is 75%"]
        XCTAssertEqual(again.step, .updateEvent(.overThreshold, name, patch))
        XCTAssertEqual(field(again.log, "event"), name)
        XCTAssertEqual(field(again.log, "event_count"), "2")
    }

    /// A loop whose second OverThreshold (at 3) is due as a count update of the first: the
    /// loop and that Event's name.
    private func repeatedOverThreshold(file: StaticString = #filePath, line: UInt = #line) -> (WatchLoop, String) {
        var watch = watching()
        waits(watch.sampled(percent: 10, now: 0), watch, until: 1, file: file, line: line)
        _ = flip(&watch, to: 90, at: 1)
        _ = flip(&watch, to: 10, at: 2)
        XCTAssertEqual(check(&watch, percent: 90, at: 3).steps, [.patchLabel("no")], file: file, line: line)
        guard case .updateEvent(_, let name, _) = watch.patched(uid: "u1", now: 3, wall: wall).steps.first else {
            XCTFail("no count update", file: file, line: line)
            return (watch, "")
        }
        return (watch, name)
    }

    func testAPatchOfAnEventThatIsGoneCreatesItWhole() {
        let (repeated, name) = repeatedOverThreshold()
        var watch = repeated
        let recreated = watch.eventFailed(status(404), now: 3)
        guard case .recordEvent(.overThreshold, let object) = recreated.steps.first else { return XCTFail("not created again") }
        XCTAssertEqual(object["metadata"]?["name"]?.stringValue, name)
        XCTAssertEqual(object["count"], 2)
        waits(watch.eventRecorded(now: 3), watch, until: 4)
    }

    func testAForbiddenPatchCreatesTheEventAnewAndNoEventIsPatchedAgain() {
        let (repeated, name) = repeatedOverThreshold()
        var watch = repeated
        let forbidden = watch.eventFailed(status(403), now: 3)
        XCTAssertEqual(messages(forbidden), ["patching Events is forbidden; recording each Event as a new object"])
        guard case .recordEvent(.overThreshold, let object) = forbidden.steps.first else { return XCTFail("not created") }
        XCTAssertNotEqual(object["metadata"]?["name"]?.stringValue, name)
        XCTAssertEqual(object["count"], 1)
        _ = watch.eventRecorded(now: 3)
        guard case .recordEvent = flip(&watch, to: 10, at: 4).step else { return XCTFail("a repeat is created") }
    }

    func testARepeatOfAQueuedEventMergesIntoItsWriteSoTheCountIsNotLost() {
        var watch = watching()
        waits(watch.sampled(percent: 10, now: 0), watch, until: 1)
        XCTAssertEqual(check(&watch, percent: 90, at: 1).steps, [.patchLabel("no")])
        guard case .recordEvent = watch.patched(uid: "u1", now: 1, wall: wall).steps.first else {
            return XCTFail("no Event")
        }
        _ = watch.eventFailed(status(503, retryAfter: 10), now: 1)
        // Two more flips while the Event waits out the Retry-After.
        let later = WallClock(seconds: wall.seconds + 3, nanoseconds: 0)
        XCTAssertEqual(check(&watch, percent: 10, at: 2).steps, [.patchLabel("yes")])
        XCTAssertEqual(watch.patched(uid: "u1", now: 2, wall: WallClock(seconds: wall.seconds + 2, nanoseconds: 0)).steps, [])
        XCTAssertEqual(check(&watch, percent: 90, at: 3).steps, [.patchLabel("no")])
        XCTAssertEqual(watch.patched(uid: "u1", now: 3, wall: later).steps, [])
        var sent: [WatchLoop.Step] = []
        var time = 3.0
        while sent.isEmpty, let wake = watch.nextWake, wake < 60 {
            time = wake
            var steps = watch.tick(now: time).steps
            if steps.contains(.sample) { steps += watch.sampled(percent: 90, now: time).steps }
            sent = steps.filter { eventReasonOf($0) != nil }
        }
        // The repeat's count rides on the queued create: one object, created with count 2.
        guard case .recordEvent(.overThreshold, let object) = sent.first else { return XCTFail("\(sent)") }
        XCTAssertEqual(object["count"], 2)
        XCTAssertEqual(object["firstTimestamp"]?.stringValue, wall.rfc3339)
        XCTAssertEqual(object["lastTimestamp"]?.stringValue, later.rfc3339)
        XCTAssertEqual(eventReason(watch.eventRecorded(now: time)), "BelowThreshold")
        waits(watch.eventRecorded(now: time), watch, until: watch.nextWake)
    }

    func testOverTheSpamFilterAnEventIsDroppedButTerminatingIsNot() {
        var watch = watching()
        waits(watch.sampled(percent: 10, now: 0), watch, until: 1)
        for index in 1...25 {
            XCTAssertNotNil(flip(&watch, to: index % 2 == 1 ? 90 : 10, at: Double(index)).step, "\(index)")
        }
        let dropped = flip(&watch, to: 10, at: 26)
        XCTAssertNil(dropped.step)
        XCTAssertEqual(field(dropped.log, "event"), "dropped")
        XCTAssertEqual(field(dropped.log, "event_count"), "13", "counted all the same")
        XCTAssertNil(flip(&watch, to: 90, at: 27).step)
        XCTAssertEqual(watch.signal("SIGTERM", now: 27.5).steps, [.patchLabel("no")])
        XCTAssertEqual(eventReason(watch.patched(uid: "u1", now: 27.6, wall: wall)), "Terminating")
    }

    private func eventReasonOf(_ step: WatchLoop.Step?) -> String? {
        if case .recordEvent(let reason, _) = step { return reason.rawValue }
        if case .updateEvent(let reason, _, _) = step { return reason.rawValue }
        return nil
    }

    // MARK: Stop

    func testASignalSetsNoEvenWhenTheLabelReadsNoAndRecordsTerminating() {
        var watch = watching("no")
        waits(watch.sampled(percent: 90, now: 0), watch, until: 1)
        let stopping = watch.signal("SIGTERM", now: 0.5)
        XCTAssertEqual(stopping.steps, [.patchLabel("no")])
        XCTAssertEqual(stopping.deadline, 2.0)
        XCTAssertEqual(messages(stopping), ["stopping: rejecting new connections"])
        let event = watch.patched(uid: "u1", now: 0.6, wall: wall)
        XCTAssertEqual(eventReason(event), "Terminating")
        XCTAssertEqual(event.deadline, 2.0)
        let done = watch.eventRecorded(now: 0.7)
        XCTAssertEqual(done.steps, [.exit(0)])
        XCTAssertEqual(messages(done), ["stopped"])
    }

    func testASignalCancelsASampleAtOnceAndAHeldWriteAfterItsWait() {
        var watch = watching()
        XCTAssertEqual(watch.sampled(percent: 90, now: 0).steps, [.patchLabel("no")])  // held
        XCTAssertEqual(watch.tick(now: 1).steps, [.sample])  // hangs too
        let stopping = watch.signal("SIGTERM", now: 1.2)
        XCTAssertEqual(stopping.steps, [.cancelSample], "the write under way is given time to be answered")
        XCTAssertEqual(watch.nextWake, 1.7)
        XCTAssertEqual(watch.tick(now: 1.7).steps, [.cancelRequest, .patchLabel("no")])
        XCTAssertEqual(eventReason(watch.patched(uid: "u1", now: 1.8, wall: wall)), "Terminating")
    }

    func testTheStopsPatchGoesOutOnlyAfterTheWriteUnderWayIsAnswered() {
        // Cancelled, the write of yes could still be applied after the stop's no.
        var watch = watching("no")
        XCTAssertEqual(watch.sampled(percent: 10, now: 0).steps, [.patchLabel("yes")])
        waits(watch.signal("SIGTERM", now: 0.1), watch, until: 0.6)
        let answered = watch.patched(uid: "u1", now: 0.2, wall: wall)
        XCTAssertEqual(answered.steps, [.patchLabel("no")], "the stop always sends no")
        XCTAssertEqual(messages(answered), ["label set"])
        XCTAssertEqual(eventReason(watch.patched(uid: "u1", now: 0.3, wall: wall)), "BelowThreshold")
        XCTAssertEqual(eventReason(watch.eventRecorded(now: 0.4)), "Terminating")
        XCTAssertEqual(watch.eventRecorded(now: 0.5).steps, [.exit(0)])
    }

    func testAFailedWriteUnderWayAtTheSignalIsNotRetriedButTheStopsPatchIs() {
        var watch = watching("no")
        XCTAssertEqual(watch.sampled(percent: 10, now: 0).steps, [.patchLabel("yes")])
        _ = watch.signal("SIGTERM", now: 0.1)
        XCTAssertEqual(watch.patchFailed(status(503), now: 0.2).steps, [.patchLabel("no")])
        XCTAssertEqual(eventReason(watch.patched(uid: "u1", now: 0.3, wall: wall)), "Terminating")
    }

    func testASignalDuringStartRetriesStillSetsNo() {
        var watch = loop()
        _ = watch.start(now: 0)
        waits(watch.podReadFailed(status(503), now: 0), watch, until: 0.5)
        XCTAssertEqual(watch.signal("SIGTERM", now: 0.2).steps, [.patchLabel("no")])
    }

    func testAFailedStopPatchIsTriedAgainWithinTheBudget() {
        var watch = watching()
        _ = watch.sampled(percent: 10, now: 0)
        XCTAssertEqual(watch.signal("SIGTERM", now: 0).steps, [.patchLabel("no")])
        waits(watch.patchFailed(status(503), now: 0), watch, until: 0.05)
        XCTAssertEqual(watch.tick(now: 0.05).steps, [.patchLabel("no")])
        waits(watch.patchFailed(status(429, retryAfter: 30), now: 0.1), watch, until: 0.2)  // a Retry-After that does not fit
        XCTAssertEqual(watch.tick(now: 0.2).steps, [.patchLabel("no")])
        let gaveUp = watch.patchFailed(status(403), now: 0.3)
        XCTAssertEqual(gaveUp.steps, [.exit(0)])
        XCTAssertEqual(messages(gaveUp), ["could not set the label before stopping", "stopped"])
    }

    func testTheStopEndsWhenItsBudgetIsSpent() {
        var watch = watching()
        _ = watch.sampled(percent: 10, now: 0)
        _ = watch.signal("SIGTERM", now: 0)
        XCTAssertEqual(watch.patchFailed(transport(.readTimeout), now: 1.48).steps, [.exit(0)])
    }

    func testTheStopEndsAtItsBudgetWhateverARequestDoes() {
        var watch = watching()
        _ = watch.sampled(percent: 10, now: 0)
        _ = watch.signal("SIGTERM", now: 0)
        XCTAssertEqual(watch.nextWake, 1.5, "the budget bounds the wait for the patch")
        XCTAssertEqual(watch.tick(now: 1.0).steps, [], "a wake before the end changes nothing")
        let ended = watch.tick(now: 1.5)
        XCTAssertEqual(ended.steps, [.cancelRequest, .exit(0)])
        XCTAssertEqual(messages(ended), ["could not set the label before stopping", "stopped"])
    }

    func testASecondSignalIsIgnoredAndAThirdEndsTheStop() {
        var watch = watching()
        _ = watch.sampled(percent: 10, now: 0)
        _ = watch.signal("SIGTERM", now: 0)
        let second = watch.signal("SIGINT", now: 0.15)
        XCTAssertEqual(second.steps, [], "the second signal is ignored: the patch goes on")
        let third = watch.signal("SIGINT", now: 0.3)
        XCTAssertEqual(third.steps, [.cancelRequest, .exit(0)])
        XCTAssertEqual(messages(third), ["stopping at once", "could not set the label before stopping", "stopped"])
    }

    func testEventsPendingBeforeTheStopAreSentFirst() {
        var watch = watching()
        XCTAssertEqual(watch.sampled(percent: 90, now: 0).steps, [.patchLabel("no")])
        _ = watch.patched(uid: "u1", now: 0, wall: wall)
        waits(watch.eventFailed(status(503), now: 0), watch, until: 0.5)
        XCTAssertEqual(watch.signal("SIGTERM", now: 0.4).steps, [.patchLabel("no")])
        XCTAssertEqual(eventReason(watch.patched(uid: "u1", now: 0.6, wall: wall)), "OverThreshold")
        XCTAssertEqual(eventReason(watch.eventRecorded(now: 0.7)), "Terminating")
    }
}

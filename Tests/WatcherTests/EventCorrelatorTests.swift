import JSON
import XCTest
@testable import Watcher

/// Drives a fresh `EventCorrelator` occurrence by occurrence, with explicit times, and asserts
/// each decision against client-go's rules (tools/record, events_cache.go).
final class EventCorrelatorTests: XCTestCase {
    private let pod = PodReference(namespace: "default", name: "some-pod", uid: "u1")
    private let start = 1_795_000_000

    private func over(_ percent: Int) -> Transition.Event {
        Transition.Event(reason: .overThreshold,
                         message: "Rejecting new connections. Echo container uses \(percent)%, threshold is 75%")
    }

    private let below = Transition.Event(reason: .belowThreshold,
                                         message: "Accepting new connections. Echo container uses 50%, threshold is 75%")

    /// The wall time `seconds` after the start.
    private func wall(_ seconds: Double) -> WallClock {
        WallClock(seconds: start + Int(seconds), nanoseconds: Int((seconds - seconds.rounded(.down)) * 1e9))
    }

    private func correlate(_ correlator: inout EventCorrelator, _ event: Transition.Event, at seconds: Double,
                           pod: PodReference? = nil) -> EventCorrelator.Decision {
        correlator.correlate(event, about: pod ?? self.pod, now: seconds, wall: wall(seconds))
    }

    /// The object of a create, or nil with a failure.
    private func created(_ decision: EventCorrelator.Decision, file: StaticString = #filePath,
                         line: UInt = #line) -> JSON? {
        guard case .write(.create(let object), _) = decision else {
            XCTFail("not a create: \(decision)", file: file, line: line)
            return nil
        }
        return object
    }

    /// The name and patch of a count update, or nil with a failure.
    private func patched(_ decision: EventCorrelator.Decision, file: StaticString = #filePath,
                         line: UInt = #line) -> (name: String, patch: JSON, recreate: JSON, fresh: JSON)? {
        guard case .write(.patch(let name, let patch, let recreate, let fresh), _) = decision else {
            XCTFail("not a patch: \(decision)", file: file, line: line)
            return nil
        }
        return (name, patch, recreate, fresh)
    }

    private func isDrop(_ decision: EventCorrelator.Decision) -> Bool {
        if case .drop = decision { return true }
        return false
    }

    // MARK: Identical Events (eventLogger)

    func testTheFirstOccurrenceIsANewEventNamedPodDotHexNanoseconds() throws {
        var correlator = EventCorrelator()
        let event = try XCTUnwrap(created(correlate(&correlator, over(80), at: 1.5)))
        XCTAssertEqual(event["metadata"]?["name"]?.stringValue, "some-pod.\(wall(1.5).hexNanoseconds)")
        XCTAssertEqual(event["count"], 1)
        XCTAssertEqual(event["firstTimestamp"]?.stringValue, wall(1.5).rfc3339)
        XCTAssertEqual(event["lastTimestamp"]?.stringValue, wall(1.5).rfc3339)
        XCTAssertEqual(event["message"]?.stringValue, over(80).message)
        XCTAssertEqual(event["type"]?.stringValue, "Warning")
        XCTAssertEqual(event["source"]?["component"]?.stringValue, "network-watcher")
        XCTAssertEqual(event["reportingComponent"]?.stringValue, "network-watcher")
        XCTAssertEqual(event["reportingInstance"]?.stringValue, "some-pod")
        XCTAssertEqual(event["involvedObject"]?["uid"]?.stringValue, "u1")
    }

    func testAnIdenticalEventPatchesCountLastTimestampAndMessageOfTheFirst() throws {
        var correlator = EventCorrelator()
        let first = try XCTUnwrap(created(correlate(&correlator, over(80), at: 0)))
        let name = try XCTUnwrap(first["metadata"]?["name"]?.stringValue)
        _ = correlate(&correlator, below, at: 1)
        let second = try XCTUnwrap(patched(correlate(&correlator, over(80), at: 2)))
        XCTAssertEqual(second.name, name)
        XCTAssertEqual(second.patch, ["count": 2, "lastTimestamp": .string(wall(2).rfc3339),
                                      "message": .string(over(80).message)])
        // After a 404 the same Event is created whole: its name, count and first time kept.
        XCTAssertEqual(second.recreate["metadata"]?["name"]?.stringValue, name)
        XCTAssertEqual(second.recreate["count"], 2)
        XCTAssertEqual(second.recreate["firstTimestamp"]?.stringValue, wall(0).rfc3339)
        XCTAssertEqual(second.recreate["lastTimestamp"]?.stringValue, wall(2).rfc3339)
        // After a 403 a new object stands for this occurrence alone.
        XCTAssertEqual(second.fresh["metadata"]?["name"]?.stringValue, "some-pod.\(wall(2).hexNanoseconds)")
        XCTAssertEqual(second.fresh["count"], 1)
        let third = try XCTUnwrap(patched(correlate(&correlator, over(80), at: 3)))
        XCTAssertEqual(third.name, name)
        XCTAssertEqual(third.patch["count"], 3)
    }

    func testIdenticalEventsAreCountedWithoutATimeWindowAsInClientGo() throws {
        // client-go's eventLogger has no window (only its LRU bound); the API server's Event TTL
        // (1 h) ends an Event, and the PATCH's 404 then creates it again.
        var correlator = EventCorrelator()
        _ = try XCTUnwrap(created(correlate(&correlator, over(80), at: 0)))
        XCTAssertEqual(try XCTUnwrap(patched(correlate(&correlator, over(80), at: 7200))).patch["count"], 2)
    }

    func testAnotherReasonOrMessageIsAnotherEvent() {
        var correlator = EventCorrelator()
        _ = created(correlate(&correlator, over(80), at: 0))
        _ = created(correlate(&correlator, below, at: 1))
        _ = created(correlate(&correlator, over(81), at: 2))
        _ = patched(correlate(&correlator, below, at: 3))
    }

    func testANewPodUidStartsAfresh() {
        var correlator = EventCorrelator()
        _ = created(correlate(&correlator, over(80), at: 0))
        let replaced = PodReference(namespace: "default", name: "some-pod", uid: "u2")
        _ = created(correlate(&correlator, over(80), at: 1, pod: replaced))
        _ = patched(correlate(&correlator, over(80), at: 2, pod: replaced))
    }

    func testTheCacheForgetsTheLeastRecentlyUsedEventBeyondItsBound() {
        var correlator = EventCorrelator()
        // Ten minutes apart, so no two are similar enough to aggregate, and the rate allows each.
        var time = 0.0
        _ = created(correlate(&correlator, over(0), at: time))
        for percent in 1...EventCorrelator.observedEntries {
            time += 601
            _ = created(correlate(&correlator, over(percent), at: time))
        }
        time += 601
        _ = created(correlate(&correlator, over(0), at: time))
        time += 601
        _ = patched(correlate(&correlator, over(EventCorrelator.observedEntries), at: time))
    }

    // MARK: Similar Events (EventAggregator)

    func testTheTenthDistinctMessageWithinTenMinutesGoesOnOneAggregateEvent() throws {
        var correlator = EventCorrelator()
        for percent in 80..<89 {
            _ = created(correlate(&correlator, over(percent), at: Double(percent - 80) * 60))
        }
        let aggregate = try XCTUnwrap(created(correlate(&correlator, over(89), at: 540)))
        XCTAssertEqual(aggregate["message"]?.stringValue, "(combined from similar events): " + over(89).message)
        XCTAssertEqual(aggregate["reason"]?.stringValue, "OverThreshold")
        XCTAssertEqual(aggregate["count"], 1)
        XCTAssertEqual(aggregate["reportingComponent"]?.stringValue, "network-watcher")
        let name = try XCTUnwrap(aggregate["metadata"]?["name"]?.stringValue)
        // Every later new message counts on the aggregate, which shows the latest message.
        let next = try XCTUnwrap(patched(correlate(&correlator, over(90), at: 600)))
        XCTAssertEqual(next.name, name)
        XCTAssertEqual(next.patch, ["count": 2, "lastTimestamp": .string(wall(600).rfc3339),
                                    "message": .string("(combined from similar events): " + over(90).message)])
        XCTAssertEqual(try XCTUnwrap(patched(correlate(&correlator, over(89), at: 601))).name, name)
        // A message among the first nine is still counted on its own Event, as client-go's
        // aggregation set still holds it.
        let own = try XCTUnwrap(patched(correlate(&correlator, over(80), at: 602)))
        XCTAssertNotEqual(own.name, name)
        XCTAssertEqual(own.patch["count"], 2)
        XCTAssertEqual(own.patch["message"]?.stringValue, over(80).message)
    }

    func testTheGroupIsForgottenTenMinutesAfterItsLastOccurrence() {
        var correlator = EventCorrelator()
        for percent in 80..<89 {
            _ = created(correlate(&correlator, over(percent), at: Double(percent - 80)))
        }
        guard let object = created(correlate(&correlator, over(89), at: 8 + 600.5)) else { return }
        XCTAssertEqual(object["message"]?.stringValue, over(89).message, "more than 600 s after the last: a new group")
    }

    func testEachReasonIsItsOwnGroup() {
        var correlator = EventCorrelator()
        for percent in 80..<89 {
            _ = created(correlate(&correlator, over(percent), at: Double(percent - 80)))
        }
        let other = Transition.Event(reason: .usageUnavailable, message: "Rejecting new connections. down")
        guard let object = created(correlate(&correlator, other, at: 10)) else { return }
        XCTAssertEqual(object["message"]?.stringValue, other.message)
    }

    // MARK: Spam filter (EventSourceObjectSpamFilter)

    func testABurstOf25ThenOnePerFiveMinutesAndDroppedOccurrencesStillCount() throws {
        var correlator = EventCorrelator()
        for index in 0..<25 {
            XCTAssertFalse(isDrop(correlate(&correlator, index % 2 == 0 ? over(80) : below, at: Double(index))), "\(index)")
        }
        // over(80) was written 13 times so far, below 12 times.
        guard case .drop(let dropped) = correlate(&correlator, below, at: 25) else { return XCTFail("not dropped") }
        XCTAssertEqual(dropped.count, 13, "counted, as client-go counts before it filters")
        XCTAssertTrue(isDrop(correlate(&correlator, over(80), at: 26)))
        // The bucket started full at 0 s and refills one token per 300 s: the 26th is due at 300 s.
        XCTAssertTrue(isDrop(correlate(&correlator, below, at: 299)))
        let next = try XCTUnwrap(patched(correlate(&correlator, over(80), at: 301)))
        XCTAssertEqual(next.patch["count"], 15, "13 written, the drop at 26 s, and this one")
        XCTAssertTrue(isDrop(correlate(&correlator, over(80), at: 302)))
    }

    func testTerminatingIsNeverDropped() {
        var correlator = EventCorrelator()
        for index in 0..<30 {
            _ = correlate(&correlator, over(80), at: Double(index))
        }
        XCTAssertTrue(isDrop(correlate(&correlator, over(80), at: 30)))
        let stop = Transition.Event(reason: .terminating, message: "Rejecting new connections: the watcher got SIGTERM")
        XCTAssertNotNil(created(correlate(&correlator, stop, at: 31)))
    }

    func testATokenBucketIsFullAtTheStartAndRefillsUpToItsBurst() {
        var bucket = TokenBucket(rate: 1, burst: 2, now: 0)
        XCTAssertTrue(bucket.take(now: 0))
        XCTAssertTrue(bucket.take(now: 0))
        XCTAssertFalse(bucket.take(now: 0.5))
        XCTAssertTrue(bucket.take(now: 1))
        XCTAssertTrue(bucket.take(now: 100))
        XCTAssertTrue(bucket.take(now: 100))
        XCTAssertFalse(bucket.take(now: 100), "refilled to the burst, no more")
    }

    // MARK: A Role without patch

    func testAfterAForbiddenPatchEveryEventIsANewObject() throws {
        var correlator = EventCorrelator()
        _ = created(correlate(&correlator, over(80), at: 0))
        _ = patched(correlate(&correlator, over(80), at: 1))
        correlator.forbidPatches()
        let next = try XCTUnwrap(created(correlate(&correlator, over(80), at: 2)))
        XCTAssertEqual(next["metadata"]?["name"]?.stringValue, "some-pod.\(wall(2).hexNanoseconds)")
        XCTAssertEqual(next["count"], 1)
        _ = created(correlate(&correlator, over(80), at: 3))
    }
}

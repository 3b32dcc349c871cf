import JSON

/// Decides how each Event is recorded, with the rules of client-go's `EventCorrelator`
/// (k8s.io/client-go/tools/record, events_cache.go) and its defaults, so that a flapping pod
/// leaves a few Events with growing counts rather than hundreds of objects. No I/O and no
/// clock: each occurrence comes with the monotonic time (for the windows and the rate) and
/// the wall time (for the object's timestamps and name).
///
/// In client-go's order (`EventCorrelate`):
/// 1. `EventAggregator`: occurrences that differ only by message (same source, involved
///    object, type, reason, reporting controller and instance) are "similar". When a group
///    has seen `aggregateMaxEvents` (10) distinct messages, each with less than
///    `aggregateInterval` (600 s) since the group's previous occurrence, the occurrence is
///    recorded on one aggregate Event, message "(combined from similar events): " + message.
/// 2. `eventLogger`: an occurrence identical to one recorded before (same source, involved
///    object, type, reason, message), or any occurrence for an aggregate already created, is
///    a PATCH of that Event's `count` (+1), `lastTimestamp` and `message`, not a new object.
///    As in client-go this has no time window of its own (issue 12's "within 10 minutes"
///    is the aggregation's): the API server's Event TTL (1 h by default) ends an Event, and
///    the PATCH's 404 then creates it again whole (`recordEvent` in tools/record/event.go).
/// 3. `EventSourceObjectSpamFilter`: a token bucket per source and involved object, burst
///    25, refilled at one per 300 s, drops what is over the rate. As in client-go the count
///    is taken before the filter, so the next occurrence that passes carries, in its count,
///    the occurrences dropped before it.
///
/// Deviations from client-go, and why:
/// - Keys leave out what is the same for every Event this process records (source, the
///   involved object's kind, namespace, name and apiVersion, the reporting fields): the
///   pod's uid, the type (it follows the reason), the reason and the message remain.
/// - When a group reaches 10 messages, client-go forgets one at random (`PopAny` on a Go
///   map); here the message that reached 10 is forgotten, so the outcome is reproducible:
///   the group keeps its first 9 messages, whose repeats stay counted on their own Events.
/// - The caches are bounded at `observedEntries` (LRU) instead of client-go's 4,096 entries
///   shared by every object a component reports on; the spam filter keeps the bucket of the
///   current pod uid only (a new uid, a new pod object, starts a full bucket).
/// - The aggregate Event keeps `reportingComponent`/`reportingInstance`, which client-go's
///   aggregate copy leaves empty: they are part of the aggregation key, so they are the
///   same for the whole group, and Events with them set validate under either API.
/// - `Terminating` is never dropped by the spam filter (and takes no token): it comes once
///   per process, at the stop, and is what says why the pod went `no` last.
/// - After a PATCH is refused 403 (a Role granting `create` but not `patch` on events, as
///   the soketi chart's does), the Event is created anew and every later one is a new
///   object too (`forbidPatches`); client-go would drop them.
struct EventCorrelator {
    /// How one occurrence is to be written.
    enum Write: Equatable {
        /// POST this Event.
        case create(JSON)
        /// PATCH Event `name` with `patch` (a JSON merge patch). If the Event is gone (404: it
        /// expired or was deleted), POST `recreate`, the same object whole, as client-go does;
        /// if patches are forbidden (403), POST `fresh`, a new object for this occurrence.
        case patch(name: String, patch: JSON, recreate: JSON, fresh: JSON)

        /// The name of the Event written.
        var eventName: String? {
            switch self {
            case .create(let object): return object["metadata"]?["name"]?.stringValue
            case .patch(let name, _, _, _): return name
            }
        }
    }

    /// What to do with one occurrence.
    enum Decision: Equatable {
        case write(Write, EventRecord)
        /// Over the spam filter's rate: nothing is written.
        case drop(EventRecord)
    }

    /// client-go's defaults (events_cache.go): `defaultAggregateMaxEvents`,
    /// `defaultAggregateIntervalInSeconds`, `EventAggregatorByReasonMessageFunc`'s prefix,
    /// `defaultSpamBurst`, `defaultSpamQPS`; and this cache's bound (client-go: 4,096).
    static let aggregateMaxEvents = 10
    static let aggregateInterval = 600.0
    static let aggregatePrefix = "(combined from similar events): "
    static let spamBurst = 25.0
    static let spamRate = 1.0 / 300.0
    static let observedEntries = 256

    /// Occurrences that differ only by message.
    private struct SimilarKey: Hashable {
        let uid: String
        let reason: Transition.Event.Reason
    }

    /// What the identical-Event cache is keyed by: one message, or a group's aggregate Event.
    private enum ObservedKey: Hashable {
        case identical(SimilarKey, message: String)
        case aggregate(SimilarKey)
    }

    private struct Group {
        /// Distinct messages seen, oldest first, at most `aggregateMaxEvents - 1` kept.
        var messages: [String] = []
        var last: Double
    }

    private struct Observation {
        let name: String
        let count: Int
        let firstTimestamp: WallClock
        var lastUse: Int
    }

    private var groups: [SimilarKey: Group] = [:]
    private var observed: [ObservedKey: Observation] = [:]
    private var uses = 0
    private var spam: (uid: String, bucket: TokenBucket)?
    /// Set after a PATCH of an Event was forbidden: every Event is then a new object.
    private(set) var patchesForbidden = false

    /// Decides how to record `event` about `pod`, which happened now.
    mutating func correlate(_ event: Transition.Event, about pod: PodReference, now: Double,
                            wall: WallClock) -> Decision {
        guard !patchesForbidden else {
            let record = EventRecord(new: event, about: pod, at: wall)
            return passesSpamFilter(event, uid: pod.uid, now: now)
                ? .write(.create(makeEvent(record, about: pod)), record) : .drop(record)
        }
        let similar = SimilarKey(uid: pod.uid, reason: event.reason)
        let key: ObservedKey
        var message = event.message
        if aggregates(event.message, similar, now: now) {
            key = .aggregate(similar)
            message = Self.aggregatePrefix + event.message
        } else {
            key = .identical(similar, message: event.message)
        }
        uses += 1
        let record: EventRecord
        let write: Write
        if let last = observed[key] {
            record = EventRecord(name: last.name, reason: event.reason, message: message, count: last.count + 1,
                                 firstTimestamp: last.firstTimestamp, lastTimestamp: wall)
            let fresh = EventRecord(new: event, message: message, about: pod, at: wall)
            write = .patch(name: record.name, patch: makeEventPatch(record), recreate: makeEvent(record, about: pod),
                           fresh: makeEvent(fresh, about: pod))
        } else {
            record = EventRecord(new: event, message: message, about: pod, at: wall)
            write = .create(makeEvent(record, about: pod))
        }
        observe(key, record)
        return passesSpamFilter(event, uid: pod.uid, now: now) ? .write(write, record) : .drop(record)
    }

    /// A PATCH of an Event was refused 403: from now on every Event is created anew.
    mutating func forbidPatches() {
        patchesForbidden = true
        groups = [:]
        observed = [:]
    }

    /// Whether this occurrence goes on the group's aggregate Event (`EventAggregate`).
    private mutating func aggregates(_ message: String, _ key: SimilarKey, now: Double) -> Bool {
        groups = groups.filter { now - $0.value.last <= Self.aggregateInterval }
        var group = groups[key] ?? Group(last: now)
        group.last = now
        if !group.messages.contains(message) {
            group.messages.append(message)
        }
        let aggregated = group.messages.count >= Self.aggregateMaxEvents
        if aggregated {
            group.messages.removeLast()
        }
        groups[key] = group
        return aggregated
    }

    /// Remembers the Event this occurrence is written to (`eventObserve`), forgetting the
    /// least recently used one beyond `observedEntries`.
    private mutating func observe(_ key: ObservedKey, _ record: EventRecord) {
        observed[key] = Observation(name: record.name, count: record.count, firstTimestamp: record.firstTimestamp,
                                    lastUse: uses)
        if observed.count > Self.observedEntries, let oldest = observed.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            observed[oldest.key] = nil
        }
    }

    private mutating func passesSpamFilter(_ event: Transition.Event, uid: String, now: Double) -> Bool {
        if event.reason == .terminating { return true }
        var bucket = spam.flatMap { $0.uid == uid ? $0.bucket : nil }
            ?? TokenBucket(rate: Self.spamRate, burst: Self.spamBurst, now: now)
        let passes = bucket.take(now: now)
        spam = (uid, bucket)
        return passes
    }
}

/// A token bucket as client-go's `flowcontrol` token bucket rate limiter (golang.org/x/time/rate):
/// full at the start, refilled continuously at `rate` tokens a second up to `burst`.
struct TokenBucket {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var last: Double

    init(rate: Double, burst: Double, now: Double) {
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.last = now
    }

    /// Takes one token if there is one (`TryAccept`); false when the rate is exceeded.
    mutating func take(now: Double) -> Bool {
        tokens = min(burst, tokens + max(0, now - last) * rate)
        last = max(last, now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

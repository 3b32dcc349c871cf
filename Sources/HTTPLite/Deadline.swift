/// A point in time on the monotonic clock, so that every wait has an end.
struct Deadline: Comparable, Sendable {
    let nanoseconds: UInt64

    static func now() -> Deadline {
        Deadline(nanoseconds: System.monotonicNanoseconds())
    }

    /// `seconds` from now; negative or NaN counts as now, huge values are capped at a day.
    static func after(seconds: Double) -> Deadline {
        let capped = seconds.isNaN ? 0 : min(max(seconds, 0), 86_400)
        return Deadline(nanoseconds: now().nanoseconds + UInt64(capped * 1e9))
    }

    var hasPassed: Bool { Deadline.now() >= self }

    /// Milliseconds left, for poll(2): rounded up so that a wait never ends early and spins.
    var remainingMilliseconds: Int32 {
        let now = Deadline.now().nanoseconds
        guard nanoseconds > now else { return 0 }
        return Int32((nanoseconds - now + 999_999) / 1_000_000)
    }

    static func < (lhs: Deadline, rhs: Deadline) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}

/// Seconds on the monotonic clock, for measuring intervals (never jumps with the wall clock).
public func monotonicSeconds() -> Double {
    Double(Deadline.now().nanoseconds) / 1e9
}

/// How the stop spends its budget: failed requests are tried again after a short backoff,
/// `Retry-After` is honoured only when it fits, and signals are counted: the first starts
/// the stop, a second is ignored (a user pressing Ctrl-C twice), a third ends it at once.
struct StopRetries {
    /// The least time (seconds) worth starting another request with, on loopback or in a cluster.
    static let leastTry = 0.05

    let deadline: Double
    private var backoff = Backoff(base: 0.05, cap: 0.25)
    private var signalsDuringStop = 0

    init(deadline: Double) {
        self.deadline = deadline
    }

    /// Seconds to wait before trying again after `failure`, or nil to give up: the failure
    /// will not pass by waiting, or no time is left for another try.
    mutating func delay(after failure: APIFailure, now: Double, random: Double) -> Double? {
        guard failure.isRetryable else { return nil }
        var delay = backoff.nextDelay(retryAfter: nil, random: random)
        if let retryAfter = failure.retryAfter, now + retryAfter + Self.leastTry <= deadline {
            delay = max(delay, retryAfter)
        }
        return now + delay + Self.leastTry <= deadline ? delay : nil
    }

    /// Another signal arrived during the stop; true when the stop must end at once.
    mutating func signalled() -> Bool {
        signalsDuringStop += 1
        return signalsDuringStop >= 2
    }
}

/// Capped exponential backoff with jitter, honouring the server's Retry-After.
struct Backoff {
    let base: Double
    let cap: Double
    private(set) var failures = 0

    init(base: Double = 0.5, cap: Double = 30) {
        self.base = base
        self.cap = cap
    }

    /// Seconds to wait after another failure; `random` in 0..<1 spreads retries of many pods apart.
    mutating func nextDelay(retryAfter: Double?, random: Double) -> Double {
        failures += 1
        let exponential = min(cap, base * Double(1 << min(failures - 1, 30)))
        let jittered = exponential * (0.5 + random / 2)
        return max(jittered, min(retryAfter ?? 0, 300))
    }

    mutating func reset() {
        failures = 0
    }
}

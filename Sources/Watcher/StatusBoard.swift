import HTTPLite

/// What the health and metrics server tells, kept up to date by the driver as things
/// happen: the metrics, when the last check ended, and the loop's label status. The
/// server's handler reads it at each request, so a probe never waits for the loop.
final class StatusBoard {
    var metrics: Metrics
    /// When the last check (a sample, good or failed) ended, in monotonic seconds.
    var lastCheckAt: Double?
    var labelStatus: (podRead: Bool, wanted: String?, atServer: String?) = (false, nil, nil)
    private let startedAt: Double
    private let interval: Double
    private let startupTimeout: Double

    init(metrics: Metrics, startedAt: Double, interval: Double, startupTimeout: Double) {
        self.metrics = metrics
        self.startedAt = startedAt
        self.interval = interval
        self.startupTimeout = startupTimeout
    }

    /// The answer for `path` (`/healthz`, `/readyz`, `/metrics`, else 404) at `now` (monotonic seconds).
    func response(for path: String, now: Double) -> HTTPServerResponse {
        StatusRoutes.response(
            for: path, metrics: metrics,
            liveness: Probes.liveness(lastCheckAt: lastCheckAt, startedAt: startedAt, interval: interval,
                                      startupTimeout: startupTimeout, now: now),
            readiness: Probes.readiness(podRead: labelStatus.podRead, wanted: labelStatus.wanted,
                                        atServer: labelStatus.atServer))
    }
}

import HTTPLite

/// The Prometheus text exposition format, version 0.0.4: one `# HELP` and one
/// `# TYPE` line per family, then its samples. Pure: it only builds text.
///
/// Names are the program's own (checked, a bad one traps); label values come
/// from outside and are escaped (`\\`, `\"`, `\n`), as is help text (`\\`, `\n`).
struct ExpositionWriter {
    enum MetricType: String {
        case counter, gauge, histogram
    }

    /// The media type of the text, for a response's Content-Type.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private(set) var text = ""

    /// Starts a family: its HELP and TYPE lines.
    mutating func family(_ name: String, _ type: MetricType, help: String) {
        precondition(Self.isMetricName(name), "metric name \(name)")
        text += "# HELP \(name) \(Self.escapedHelp(help))\n# TYPE \(name) \(type.rawValue)\n"
    }

    /// One sample line: `name{label="value",...} value`.
    mutating func sample(_ name: String, _ labels: [(name: String, value: String)] = [], _ value: Double) {
        precondition(Self.isMetricName(name), "metric name \(name)")
        text += name
        if !labels.isEmpty {
            text += "{"
            for (index, label) in labels.enumerated() {
                precondition(Self.isLabelName(label.name), "label name \(label.name)")
                text += (index == 0 ? "" : ",") + label.name + "=\"" + Self.escapedLabelValue(label.value) + "\""
            }
            text += "}"
        }
        text += " " + Self.formatted(value) + "\n"
    }

    /// A histogram's `_bucket` (cumulative, ending with `+Inf`), `_sum` and `_count` samples.
    mutating func histogram(_ name: String, _ histogram: Histogram) {
        var cumulative = 0
        for (bound, count) in zip(histogram.bounds, histogram.counts) {
            cumulative += count
            sample(name + "_bucket", [("le", Self.formatted(bound))], Double(cumulative))
        }
        sample(name + "_bucket", [("le", "+Inf")], Double(histogram.count))
        sample(name + "_sum", [], histogram.sum)
        sample(name + "_count", [], Double(histogram.count))
    }

    /// A value as Prometheus reads it (Go's ParseFloat): integers without a
    /// fraction, `+Inf`, `-Inf`, `NaN`.
    static func formatted(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// A label value: backslash, double quote and line feed escaped.
    static func escapedLabelValue(_ value: String) -> String {
        escaped(value, quotes: true)
    }

    /// Help text: backslash and line feed escaped (quotes stay as they are).
    static func escapedHelp(_ help: String) -> String {
        escaped(help, quotes: false)
    }

    private static func escaped(_ text: String, quotes: Bool) -> String {
        var out = ""
        for character in text.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "\"" where quotes: out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    static func isMetricName(_ name: String) -> Bool {
        isName(name, extra: UInt8(ascii: ":"))
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with the reserved `__`.
    static func isLabelName(_ name: String) -> Bool {
        isName(name, extra: nil) && !name.hasPrefix("__")
    }

    private static func isName(_ name: String, extra: UInt8?) -> Bool {
        guard let first = name.utf8.first, !(48...57).contains(first) else { return false }
        return name.utf8.allSatisfy { byte in
            switch byte {
            case 48...57, 65...90, 97...122, UInt8(ascii: "_"): return true
            default: return byte == extra
            }
        }
    }
}

/// Observations counted into buckets with upper bounds (`le`), plus their sum and count.
struct Histogram: Equatable {
    /// Ascending upper bounds; `+Inf` is implied.
    let bounds: [Double]
    /// Observations per bucket, not cumulative: `counts[i]` is those in (bounds[i-1], bounds[i]].
    private(set) var counts: [Int]
    private(set) var sum = 0.0
    private(set) var count = 0

    init(bounds: [Double]) {
        precondition(zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 }, "bounds must ascend")
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count)
    }

    mutating func observe(_ value: Double) {
        if let index = bounds.firstIndex(where: { value <= $0 }) { counts[index] += 1 }
        sum += value
        count += 1
    }
}

/// The watcher's series for `/metrics`, updated by the loop as things happen
/// and rendered on each scrape. Names follow Prometheus' conventions: the
/// `network_watcher_` prefix, base units (seconds, ratios 0 to 1 rather than
/// percent), `_total` on counters, `_info` for the build gauge.
struct Metrics {
    /// The API server requests the watcher makes, as the `verb` label (Kubernetes' verbs).
    enum APIVerb: String, CaseIterable {
        case get, patch, create
    }

    private let rejectThreshold: Double
    private let acceptThreshold: Double
    private let buildInfo: [(name: String, value: String)]
    private var usageRatio: Double?
    private var lastSampleSeconds: Double?
    private var accepting: Bool?
    private var labelWrites: [String: Int] = ["yes": 0, "no": 0]
    private var events: [Transition.Event.Reason: Int] = [
        .overThreshold: 0, .belowThreshold: 0, .usageUnavailable: 0, .terminating: 0,
    ]
    private var usageFailures: [UsageFailure.Kind: Int] = Dictionary(uniqueKeysWithValues: UsageFailure.Kind.allCases.map { ($0, 0) })
    /// Keyed by `verb` and `code` ("200"..., or "error" when no response came).
    private var apiRequests: [APIRequestKey: Int] = [:]
    private(set) var checkDurations = Histogram(bounds: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])

    private struct APIRequestKey: Hashable {
        let verb: APIVerb
        let code: String
    }

    /// `thresholds` in percent as configured: reject at or above `reject`, accept again below `accept`.
    /// `buildInfo`: the labels of `network_watcher_build_info` (version, revision...).
    init(rejectPercent: Double, acceptPercent: Double, buildInfo: [(name: String, value: String)]) {
        rejectThreshold = rejectPercent / 100
        acceptThreshold = acceptPercent / 100
        self.buildInfo = buildInfo
    }

    /// A sample came: `percent` of memory in use, at `wallClock` (seconds since the epoch).
    mutating func sampled(percent: Double, wallClock: Double) {
        usageRatio = percent / 100
        lastSampleSeconds = wallClock
    }

    mutating func sampleFailed(_ kind: UsageFailure.Kind) {
        usageFailures[kind, default: 0] += 1
    }

    /// The label was written with `value` (`yes` or `no`).
    mutating func labelWritten(value: String) {
        labelWrites[value, default: 0] += 1
        accepting = value == "yes"
    }

    /// The label as read from the pod (nil: the pod has none).
    mutating func labelSeen(value: String?) {
        accepting = value.map { $0 == "yes" }
    }

    mutating func eventRecorded(reason: Transition.Event.Reason) {
        events[reason, default: 0] += 1
    }

    /// An API server request ended with `status`, or with none (nil: a transport failure).
    mutating func apiRequest(_ verb: APIVerb, status: Int?) {
        apiRequests[APIRequestKey(verb: verb, code: status.map(String.init) ?? "error"), default: 0] += 1
    }

    /// A check (sample, decision, and any write and Event) took `seconds`.
    mutating func checkFinished(seconds: Double) {
        checkDurations.observe(seconds)
    }

    /// The exposition text: every family, in a fixed order, series sorted by label.
    func render() -> String {
        var writer = ExpositionWriter()
        let prefix = "network_watcher_"
        writer.family(prefix + "build_info", .gauge, help: "Always 1; the labels say what was built.")
        writer.sample(prefix + "build_info", buildInfo, 1)
        if let usageRatio {
            writer.family(prefix + "memory_usage_ratio", .gauge, help: "Memory in use by the watched server at the last good sample, 0 to 1 (percent / 100).")
            writer.sample(prefix + "memory_usage_ratio", [], usageRatio)
        }
        if let lastSampleSeconds {
            writer.family(prefix + "last_sample_timestamp_seconds", .gauge, help: "When the last good sample was taken, in seconds since the epoch.")
            writer.sample(prefix + "last_sample_timestamp_seconds", [], lastSampleSeconds)
        }
        writer.family(prefix + "reject_threshold_ratio", .gauge, help: "At or above this usage the pod takes no new connections.")
        writer.sample(prefix + "reject_threshold_ratio", [], rejectThreshold)
        writer.family(prefix + "accept_threshold_ratio", .gauge, help: "Once rejecting, below this usage the pod takes new connections again.")
        writer.sample(prefix + "accept_threshold_ratio", [], acceptThreshold)
        if let accepting {
            writer.family(prefix + "accepts_new_connections", .gauge, help: "1 while the pod's label says yes, 0 while it says no.")
            writer.sample(prefix + "accepts_new_connections", [], accepting ? 1 : 0)
        }
        writer.family(prefix + "label_writes_total", .counter, help: "Writes of the label to the pod, by value.")
        for (value, count) in labelWrites.sorted(by: { $0.key < $1.key }) {
            writer.sample(prefix + "label_writes_total", [("value", value)], Double(count))
        }
        writer.family(prefix + "events_total", .counter, help: "Kubernetes Events recorded, by reason.")
        for (reason, count) in events.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            writer.sample(prefix + "events_total", [("reason", reason.rawValue)], Double(count))
        }
        writer.family(prefix + "usage_failures_total", .counter, help: "Samples of the Usage API that gave no percent, by kind.")
        for (kind, count) in usageFailures.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            writer.sample(prefix + "usage_failures_total", [("kind", kind.rawValue)], Double(count))
        }
        writer.family(prefix + "api_requests_total", .counter, help: "Requests to the Kubernetes API server, by verb and HTTP status (error: no response).")
        for (key, count) in apiRequests.sorted(by: { ($0.key.verb.rawValue, $0.key.code) < ($1.key.verb.rawValue, $1.key.code) }) {
            writer.sample(prefix + "api_requests_total", [("verb", key.verb.rawValue), ("code", key.code)], Double(count))
        }
        writer.family(prefix + "check_duration_seconds", .histogram, help: "How long one check took: sample, decision, and any label write and Event.")
        writer.histogram(prefix + "check_duration_seconds", checkDurations)
        return writer.text
    }

    /// `/metrics` as a response.
    var response: HTTPServerResponse {
        HTTPServerResponse(status: 200, contentType: ExpositionWriter.contentType, body: Array(render().utf8))
    }
}

/// A probe's answer: healthy or not, and why (the body of a 503).
struct ProbeVerdict: Equatable {
    let ok: Bool
    let reason: String

    /// 200 `ok`, or 503 with the reason.
    var response: HTTPServerResponse {
        HTTPServerResponse(status: ok ? 200 : 503, text: ok ? "ok" : reason)
    }
}

/// The `/healthz` and `/readyz` rules, pure: the loop's times and state in, a verdict out.
enum Probes {
    /// How long the loop may go without a check before it counts as stuck:
    /// three intervals, and never under 10 seconds.
    static func livenessWindow(interval: Double) -> Double {
        max(3 * interval, 10)
    }

    /// Live while the loop ran a check within the window (monotonic seconds
    /// throughout). Before the first check the loop is starting (reading the
    /// pod, retrying an unreachable API server), which it gives up by itself
    /// after `startupTimeout`: live until then plus the window. A Usage API or
    /// API server that fails does not make it unhealthy: the checks still run,
    /// and a restart would not mend them.
    static func liveness(lastCheckAt: Double?, startedAt: Double, interval: Double, startupTimeout: Double,
                         now: Double) -> ProbeVerdict {
        let window = livenessWindow(interval: interval)
        if let lastCheckAt {
            let since = now - lastCheckAt
            return since <= window ? ProbeVerdict(ok: true, reason: "")
                : ProbeVerdict(ok: false, reason: "no check for \(seconds(since)) s (the limit is \(seconds(window)) s)")
        }
        let since = now - startedAt
        return since <= startupTimeout + window ? ProbeVerdict(ok: true, reason: "")
            : ProbeVerdict(ok: false, reason: "no check in the \(seconds(since)) s since the start")
    }

    /// Ready once the pod was read and its label is the value the loop wants
    /// (the decision, or before the first sample the value it ensures).
    static func readiness(podRead: Bool, wanted: String?, atServer: String?) -> ProbeVerdict {
        guard podRead else { return ProbeVerdict(ok: false, reason: "the pod has not been read yet") }
        guard let wanted else { return ProbeVerdict(ok: false, reason: "no label value decided yet") }
        guard atServer == wanted else {
            return ProbeVerdict(ok: false, reason: "the label is \(atServer.map { "\"\($0)\"" } ?? "missing"), not \"\(wanted)\" yet")
        }
        return ProbeVerdict(ok: true, reason: "")
    }

    /// Seconds with one decimal, for reasons.
    private static func seconds(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }
}

/// The health and metrics server's routes: what the handler given to
/// `HTTPServer` answers for a path, from the loop's state at that moment.
enum StatusRoutes {
    static func response(for path: String, metrics: Metrics, liveness: ProbeVerdict,
                         readiness: ProbeVerdict) -> HTTPServerResponse {
        switch path {
        case "/metrics": return metrics.response
        case "/healthz": return liveness.response
        case "/readyz": return readiness.response
        default: return HTTPServerResponse(status: 404, text: "not found: the paths are /healthz, /readyz and /metrics")
        }
    }
}

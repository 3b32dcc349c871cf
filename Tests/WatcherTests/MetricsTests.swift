import Foundation
import HTTPLite
import XCTest
@testable import Watcher

final class MetricsTests: XCTestCase {
    // MARK: The writer

    func testValuesAsPrometheusReadsThem() {
        XCTAssertEqual(ExpositionWriter.formatted(3), "3")
        XCTAssertEqual(ExpositionWriter.formatted(-2), "-2")
        XCTAssertEqual(ExpositionWriter.formatted(0.755), "0.755")
        XCTAssertEqual(ExpositionWriter.formatted(1e-05), "1e-05")
        XCTAssertEqual(ExpositionWriter.formatted(.infinity), "+Inf")
        XCTAssertEqual(ExpositionWriter.formatted(-.infinity), "-Inf")
        XCTAssertEqual(ExpositionWriter.formatted(.nan), "NaN")
        XCTAssertEqual(ExpositionWriter.formatted(1_764_000_000.25), "1764000000.25")
    }

    func testLabelValuesAndHelpAreEscaped() {
        var writer = ExpositionWriter()
        writer.family("x_total", .counter, help: "a \\ b\nc \"d\"")
        writer.sample("x_total", [("a", "back\\slash \"quoted\"\nnew line"), ("b", "")], 1)
        XCTAssertEqual(writer.text, """
            # HELP x_total a \\\\ b\\nc "d"
            # TYPE x_total counter
            x_total{a="back\\\\slash \\"quoted\\"\\nnew line",b=""} 1

            """)
    }

    func testNames() {
        XCTAssertTrue(ExpositionWriter.isMetricName("network_watcher_up:rate5m"))
        XCTAssertFalse(ExpositionWriter.isMetricName("9lives"))
        XCTAssertFalse(ExpositionWriter.isMetricName("a-b"))
        XCTAssertFalse(ExpositionWriter.isMetricName(""))
        XCTAssertTrue(ExpositionWriter.isLabelName("le"))
        XCTAssertFalse(ExpositionWriter.isLabelName("a:b"))
        XCTAssertFalse(ExpositionWriter.isLabelName("__name__"))
    }

    func testAHistogramIsCumulativeWithInfSumAndCount() {
        var histogram = Histogram(bounds: [0.1, 1])
        for value in [0.05, 0.1, 0.5, 3] { histogram.observe(value) }
        var writer = ExpositionWriter()
        writer.histogram("d_seconds", histogram)
        XCTAssertEqual(writer.text, """
            d_seconds_bucket{le="0.1"} 2
            d_seconds_bucket{le="1"} 3
            d_seconds_bucket{le="+Inf"} 4
            d_seconds_sum 3.65
            d_seconds_count 4

            """)
    }

    // MARK: The watcher's series

    private func busyMetrics(version: String = "0.1.0") -> Metrics {
        var metrics = Metrics(rejectPercent: 75, acceptPercent: 70,
                              buildInfo: [("version", version), ("revision", "abc123"), ("openssl", "OpenSSL 3.0.17")])
        metrics.sampled(percent: 80.5, wallClock: 1_764_000_000.5)
        metrics.sampleFailed(.timeout)
        metrics.sampleFailed(.timeout)
        metrics.sampleFailed(.status)
        metrics.labelWritten(value: "yes")
        metrics.labelWritten(value: "no")
        metrics.eventRecorded(reason: .overThreshold)
        metrics.apiRequest(.get, status: 200)
        metrics.apiRequest(.patch, status: 200)
        metrics.apiRequest(.patch, status: 200)
        metrics.apiRequest(.create, status: 403)
        metrics.apiRequest(.patch, status: nil)
        metrics.checkFinished(seconds: 0.004)
        metrics.checkFinished(seconds: 0.3)
        return metrics
    }

    func testTheSeries() {
        let text = busyMetrics().render()
        for line in [
            "network_watcher_build_info{version=\"0.1.0\",revision=\"abc123\",openssl=\"OpenSSL 3.0.17\"} 1",
            "network_watcher_memory_usage_ratio 0.805",
            "network_watcher_last_sample_timestamp_seconds 1764000000.5",
            "network_watcher_reject_threshold_ratio 0.75",
            "network_watcher_accept_threshold_ratio 0.7",
            "network_watcher_accepts_new_connections 0",
            "network_watcher_label_writes_total{value=\"no\"} 1",
            "network_watcher_label_writes_total{value=\"yes\"} 1",
            "network_watcher_events_total{reason=\"OverThreshold\"} 1",
            "network_watcher_events_total{reason=\"Terminating\"} 0",
            "network_watcher_usage_failures_total{kind=\"timeout\"} 2",
            "network_watcher_usage_failures_total{kind=\"status\"} 1",
            "network_watcher_usage_failures_total{kind=\"body\"} 0",
            "network_watcher_api_requests_total{verb=\"create\",code=\"403\"} 1",
            "network_watcher_api_requests_total{verb=\"patch\",code=\"200\"} 2",
            "network_watcher_api_requests_total{verb=\"patch\",code=\"error\"} 1",
            "network_watcher_check_duration_seconds_bucket{le=\"0.005\"} 1",
            "network_watcher_check_duration_seconds_bucket{le=\"0.25\"} 1",
            "network_watcher_check_duration_seconds_bucket{le=\"0.5\"} 2",
            "network_watcher_check_duration_seconds_bucket{le=\"+Inf\"} 2",
            "network_watcher_check_duration_seconds_count 2",
            "# TYPE network_watcher_check_duration_seconds histogram",
            "# TYPE network_watcher_api_requests_total counter",
        ] {
            XCTAssertTrue(text.split(separator: "\n").contains(Substring(line)), "missing: \(line)\n\(text)")
        }
    }

    /// Before any sample or label there is no value to show: those series are absent, not 0.
    func testUnknownValuesAreAbsent() {
        let text = Metrics(rejectPercent: 75, acceptPercent: 75, buildInfo: [("version", "x")]).render()
        XCTAssertFalse(text.contains("memory_usage_ratio"))
        XCTAssertFalse(text.contains("last_sample_timestamp"))
        XCTAssertFalse(text.contains("accepts_new_connections"))
        XCTAssertTrue(text.contains("network_watcher_label_writes_total{value=\"yes\"} 0\n"))
        var seen = Metrics(rejectPercent: 75, acceptPercent: 75, buildInfo: [])
        seen.labelSeen(value: "yes")
        XCTAssertTrue(seen.render().contains("network_watcher_accepts_new_connections 1\n"))
    }

    func testTheResponse() {
        let response = busyMetrics().response
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.contentType, "text/plain; version=0.0.4; charset=utf-8")
    }

    /// Prometheus' own checker accepts the text, with hostile label values in it.
    func testPromtoolAcceptsTheOutput() throws {
        let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let promtool else {
            if ProcessInfo.processInfo.environment["CI"] != nil { return XCTFail("promtool is missing in CI") }
            throw XCTSkip("promtool not installed (Debian: apt-get install prometheus; scripts/install-deps.sh does it)")
        }
        let text = busyMetrics(version: "1.0 \"beta\"\\\nnext").render()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: promtool)
        process.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "promtool: \(said)\n\(text)")
        XCTAssertEqual(said.trimmingCharacters(in: .whitespacesAndNewlines), "", "promtool's lint: \(said)")
    }

    // MARK: Probes

    func testLivenessWindowIsThreeIntervalsAndAtLeastTenSeconds() {
        XCTAssertEqual(Probes.livenessWindow(interval: 1), 10)
        XCTAssertEqual(Probes.livenessWindow(interval: 5), 15)
        XCTAssertEqual(Probes.liveness(lastCheckAt: 100, startedAt: 0, interval: 1, startupTimeout: 60, now: 110),
                       ProbeVerdict(ok: true, reason: ""))
        let stuck = Probes.liveness(lastCheckAt: 100, startedAt: 0, interval: 1, startupTimeout: 60, now: 110.5)
        XCTAssertEqual(stuck, ProbeVerdict(ok: false, reason: "no check for 10.5 s (the limit is 10.0 s)"))
        XCTAssertEqual(stuck.response.status, 503)
        XCTAssertEqual(String(decoding: stuck.response.body, as: UTF8.self), "no check for 10.5 s (the limit is 10.0 s)\n")
        XCTAssertTrue(Probes.liveness(lastCheckAt: 100, startedAt: 0, interval: 5, startupTimeout: 60, now: 115).ok)
        XCTAssertFalse(Probes.liveness(lastCheckAt: 100, startedAt: 0, interval: 5, startupTimeout: 60, now: 115.1).ok)
    }

    func testLivenessWhileStarting() {
        XCTAssertTrue(Probes.liveness(lastCheckAt: nil, startedAt: 0, interval: 1, startupTimeout: 60, now: 70).ok)
        XCTAssertEqual(Probes.liveness(lastCheckAt: nil, startedAt: 0, interval: 1, startupTimeout: 60, now: 71),
                       ProbeVerdict(ok: false, reason: "no check in the 71.0 s since the start"))
    }

    func testReadiness() {
        XCTAssertEqual(Probes.readiness(podRead: false, wanted: nil, atServer: nil).reason, "the pod has not been read yet")
        XCTAssertEqual(Probes.readiness(podRead: true, wanted: nil, atServer: "yes").reason, "no label value decided yet")
        XCTAssertEqual(Probes.readiness(podRead: true, wanted: "no", atServer: "yes").reason, "the label is \"yes\", not \"no\" yet")
        XCTAssertEqual(Probes.readiness(podRead: true, wanted: "yes", atServer: nil).reason, "the label is missing, not \"yes\" yet")
        let ready = Probes.readiness(podRead: true, wanted: "no", atServer: "no")
        XCTAssertTrue(ready.ok)
        XCTAssertEqual(ready.response.status, 200)
        XCTAssertEqual(ready.response.body, Array("ok\n".utf8))
    }

    func testRoutes() {
        let metrics = busyMetrics()
        let live = ProbeVerdict(ok: true, reason: "")
        let notReady = ProbeVerdict(ok: false, reason: "the pod has not been read yet")
        func route(_ path: String) -> HTTPServerResponse {
            StatusRoutes.response(for: path, metrics: metrics, liveness: live, readiness: notReady)
        }
        XCTAssertEqual(route("/metrics"), metrics.response)
        XCTAssertEqual(route("/healthz").status, 200)
        XCTAssertEqual(route("/readyz").status, 503)
        XCTAssertEqual(String(decoding: route("/readyz").body, as: UTF8.self), "the pod has not been read yet\n")
        XCTAssertEqual(route("/").status, 404)
        XCTAssertEqual(route("/metrics/").status, 404)
    }
}

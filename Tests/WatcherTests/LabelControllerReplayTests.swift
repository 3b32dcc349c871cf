import Foundation
import XCTest
@testable import Watcher

/// Replays the recorded usage traces of `bench/traces/` (made once, with a fixed seed, by
/// `bench/traces/make_traces.py`; one sample a second) through `LabelController` as the loop
/// drives it: a sample, then the write it asks for. Prints the hysteresis figures of
/// BENCHMARKS.md (`swift test --skip-build --filter LabelControllerReplayTests`) and holds
/// the rules to them.
final class LabelControllerReplayTests: XCTestCase {
    private struct Candidate {
        let name: String
        let accept: Double?
        let samples: Int
    }

    /// MEMORY_PERCENT is 75 throughout; the last is README's recommendation.
    private let candidates = [
        Candidate(name: "defaults (ACCEPT_PERCENT=75, FLIP_AFTER_SAMPLES=1)", accept: nil, samples: 1),
        Candidate(name: "FLIP_AFTER_SAMPLES=3", accept: nil, samples: 3),
        Candidate(name: "ACCEPT_PERCENT=74", accept: 74, samples: 1),
        Candidate(name: "ACCEPT_PERCENT=70, FLIP_AFTER_SAMPLES=3", accept: 70, samples: 3),
        Candidate(name: "ACCEPT_PERCENT=70 (recommended: MEMORY_PERCENT - 5)", accept: 70, samples: 1),
    ]

    private func trace(_ name: String) throws -> [Double] {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("bench/traces/\(name).csv")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { throw XCTSkip("no \(file.path)") }
        let rows = text.split(separator: "\n").dropFirst()
        return try rows.map { row in
            let cells = row.split(separator: ",")
            return try XCTUnwrap(cells.count == 2 ? Double(cells[1]) : nil, "bad row \(row) in \(name).csv")
        }
    }

    /// The samples (indices into `percents`) at which the label changed, and to what. The pod
    /// starts labelled `yes`; every change is a write with an Event.
    private func flips(_ percents: [Double], _ candidate: Candidate) -> [(sample: Int, label: String)] {
        var state = LabelController(threshold: 75, acceptBelow: candidate.accept, flipAfterSamples: candidate.samples,
                                    policy: .keep, failureThreshold: 3)
        state.podRead(labelValue: "yes")
        var changes: [(sample: Int, label: String)] = []
        for (index, percent) in percents.enumerated() {
            state.sampled(percent: percent)
            guard let write = state.pendingWrite else { continue }
            XCTAssertNotNil(write.event, "a flip between yes and no always has its Event")
            state.written(write)
            changes.append((index, write.labelValue))
        }
        return changes
    }

    /// Samples from the first one at the new level to the one that flips the label (1: that first one).
    private func reaction(_ changes: [(sample: Int, label: String)], to label: String, after step: Int) -> Int? {
        changes.first { $0.label == label && $0.sample >= step }.map { $0.sample - step + 1 }
    }

    func testReplayedTracesGiveTheFiguresOfBenchmarks() throws {
        let noisy = try trace("noisy-threshold")
        let drift = try trace("drift")
        let step = try trace("step")
        XCTAssertEqual(noisy.count, 600)
        XCTAssertEqual(step[59...61], [60, 90, 90])
        XCTAssertEqual(step[119...121], [90, 60, 60])
        // The first minute is left out of the rate: at 75 % the first crossing rightly rejects.
        let perHour = 3600 / Double(noisy.count - 60)
        print("| setting | noisy: flips in 10 min | noisy: flips per hour after the first minute "
              + "| drift: flips (2 real crossings) | drift: first `no`, last `yes` (s; real 150, 450) "
              + "| step 60→90: samples to `no` | step 90→60: samples to `yes` |")
        print("|---|---|---|---|---|---|---|")
        var figures: [String: (noisy: Int, drift: Int, up: Int?, down: Int?)] = [:]
        for candidate in candidates {
            let onNoisy = flips(noisy, candidate)
            let onDrift = flips(drift, candidate)
            let onStep = flips(step, candidate)
            let up = reaction(onStep, to: "no", after: 60)
            let down = reaction(onStep, to: "yes", after: 120)
            figures[candidate.name] = (onNoisy.count, onDrift.count, up, down)
            let rate = Int((Double(onNoisy.filter { $0.sample >= 60 }.count) * perHour).rounded())
            let driftNo = onDrift.first { $0.label == "no" }.map { String($0.sample) } ?? "never"
            let driftYes = onDrift.last { $0.label == "yes" }.map { String($0.sample) } ?? "never"
            print("| \(candidate.name) | \(onNoisy.count) | \(rate) | \(onDrift.count) | \(driftNo), \(driftYes) "
                  + "| \(up.map(String.init) ?? "never") | \(down.map(String.init) ?? "never") |")
        }
        // The defaults are the old rule: a flip at every crossing of 75 (the first sample decides too).
        var crossings = noisy.first.map { $0 >= 75 ? 1 : 0 } ?? 0
        for (before, after) in zip(noisy, noisy.dropFirst()) where (before >= 75) != (after >= 75) { crossings += 1 }
        let defaults = try XCTUnwrap(figures[candidates[0].name])
        XCTAssertEqual(defaults.noisy, crossings)
        XCTAssertGreaterThan(defaults.noisy, 200, "the wobble of issue 12")
        XCTAssertEqual(defaults.up, 1)
        XCTAssertEqual(defaults.down, 1)
        // FLIP_AFTER_SAMPLES=3 damps the wobble and costs two samples each way.
        let three = try XCTUnwrap(figures[candidates[1].name])
        XCTAssertLessThan(three.noisy, defaults.noisy / 2)
        XCTAssertEqual(three.up, 3)
        XCTAssertEqual(three.down, 3)
        // A band wider than the noise (1 point peak to peak) ends it, and a clean step is as quick as before.
        let recommended = try XCTUnwrap(figures[candidates[4].name])
        XCTAssertLessThanOrEqual(recommended.noisy, 1)
        XCTAssertEqual(recommended.drift, 2, "one flip per real crossing of the slow swing")
        XCTAssertEqual(recommended.up, 1)
        XCTAssertEqual(recommended.down, 1)
        // On the slow swing the band accepts later: once the usage is below 70, not 75.
        let bandYes = try XCTUnwrap(flips(drift, candidates[4]).last { $0.label == "yes" })
        XCTAssertGreaterThan(bandYes.sample, 480)
    }
}

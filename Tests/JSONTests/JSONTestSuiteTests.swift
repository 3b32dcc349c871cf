import Foundation
import XCTest
import JSON

/// The public JSONTestSuite corpus (../shared/testdata/JSONTestSuite beside the repo):
/// every y_ file parses, every n_ file is rejected, every i_ file returns; and the
/// path lookup gives the same verdict (and error) as the full parser on every file.
final class JSONTestSuiteTests: XCTestCase {
    private var corpus: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("../shared/testdata/JSONTestSuite/test_parsing").standardizedFileURL
    }

    func testTheWholeCorpus() throws {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: corpus.path) else {
            throw XCTSkip("JSONTestSuite not found at \(corpus.path): it lives in ../shared beside the repo")
        }
        var failures: [String] = []
        var counts: [Character: Int] = [:]
        for name in names.sorted() where name.hasSuffix(".json") {
            let bytes = [UInt8](try Data(contentsOf: corpus.appendingPathComponent(name)))
            let parsed = (try? JSON.parse(bytes)) != nil
            for path: JSONPath in [[], ["memory", "percent"], ["a"], [""]] {
                let tree = Result { () throws(JSONError) in try JSON.parse(bytes) }
                let lookup = Result { () throws(JSONError) in try JSON.lookup(path, in: bytes) }
                switch (tree, lookup) {
                case (.success, .success): break
                case (.failure(let a), .failure(let b)) where a.description == b.description: break
                default: failures.append("\(name): parse gives \(tree), the lookup \(lookup)")
                }
            }
            guard let kind = name.first else { continue }
            counts[kind, default: 0] += 1
            switch kind {
            case "y" where !parsed: failures.append("\(name): rejected, must parse")
            case "n" where parsed: failures.append("\(name): parsed, must be rejected")
            default: break  // i_ files may go either way; returning at all is the test
            }
        }
        XCTAssertGreaterThan(counts["y", default: 0], 90)
        XCTAssertGreaterThan(counts["n", default: 0], 180)
        XCTAssertGreaterThan(counts.values.reduce(0, +), 300)
        XCTAssertEqual(failures, [], failures.joined(separator: "\n"))
    }
}

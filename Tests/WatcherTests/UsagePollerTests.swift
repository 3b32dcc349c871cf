import XCTest
@testable import Watcher

final class UsagePollerTests: XCTestCase {
    /// The percent in `body`, or the failure's kind and text.
    private func percent(_ body: String) -> Result<Double, UsageFailure> {
        UsagePoller.percent(in: Array(body.utf8))
    }

    private func assertFails(_ body: String, _ description: String, file: StaticString = #filePath, line: UInt = #line) {
        switch percent(body) {
        case .success(let value):
            XCTFail("\(body) gave \(value)", file: file, line: line)
        case .failure(let failure):
            XCTAssertEqual(failure.kind, .body, body, file: file, line: line)
            XCTAssertEqual(failure.description, description, body, file: file, line: line)
        }
    }

    func testTheUsageAPIBody() throws {
        let body = #"{"memory":{"free":1234567168,"used":912916480,"total":2147483648,"percent":42.5}}"#
        XCTAssertEqual(try percent(body).get(), 42.5)
        XCTAssertEqual(try percent(#"{"memory":{"percent":0}}"#).get(), 0)
        XCTAssertEqual(try percent(#"{"memory":{"percent":-0.0}}"#).get(), 0)
        // The last of repeated names counts, as in the parsed object.
        XCTAssertEqual(try percent(#"{"memory":{"percent":"x"},"memory":{"percent":7e1}}"#).get(), 70)
    }

    func testABodyThatIsNotJSON() {
        assertFails("<html><body>502 Bad Gateway</body></html>", "the Usage API's answer is not JSON")
        assertFails(#"{"memory":{"percent":NaN}}"#, "the Usage API's answer is not JSON")
        // Checked to the end, even past the percent.
        assertFails(#"{"memory":{"percent":50}} x"#, "the Usage API's answer is not JSON")
        assertFails(#"{"memory":{"percent":50},"swap":1e999}"#, "the Usage API's answer is not JSON")
    }

    func testNoPercent() {
        assertFails(#"{"memory":{"used":1}}"#, "the Usage API's answer has no memory.percent")
        assertFails(#"{"memory":[{"percent":1}]}"#, "the Usage API's answer has no memory.percent")
        assertFails(#"[]"#, "the Usage API's answer has no memory.percent")
    }

    func testAPercentThatIsNotANonNegativeNumber() {
        assertFails(#"{"memory":{"percent":"50.0"}}"#, #"memory.percent is not a non-negative number: "50.0""#)
        assertFails(#"{"memory":{"percent":null}}"#, "memory.percent is not a non-negative number: null")
        assertFails(#"{"memory":{"percent":-1.5}}"#, "memory.percent is not a non-negative number: -1.5")
        assertFails(#"{"memory":{"percent":[ 1 ]}}"#, "memory.percent is not a non-negative number: [ 1 ]")
    }
}

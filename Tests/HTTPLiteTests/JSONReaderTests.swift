import XCTest
import HTTPLite

final class JSONReaderTests: XCTestCase {
    private func rejects(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try JSON.parse(text), text, file: file, line: line) { error in
            XCTAssertEqual((error as? HTTPError)?.code, .invalidJSON, file: file, line: line)
        }
    }

    func testTheUsageAPIBody() throws {
        let body = #"{"memory":{"free":-1024,"used":83886080,"total":104857600,"percent":80.00000000000001}}"#
        let usage = try JSON.parse(body)
        XCTAssertEqual(usage["memory"]?["percent"]?.doubleValue, 80.00000000000001)
        XCTAssertEqual(usage["memory"]?["free"]?.doubleValue, -1024)
        XCTAssertNil(usage["memory"]?["missing"])
        XCTAssertNil(usage["nope"]?["percent"])
    }

    func testValuesOfEveryKind() throws {
        let value = try JSON.parse(" \t\r\n[null, true, false, 0, -0.5, 1E2, 2e-2, \"s\", [], {}] ")
        XCTAssertEqual(value, .array([.null, .bool(true), .bool(false), .number(0), .number(-0.5), .number(100),
                                      .number(0.02), .string("s"), .array([]), .object(JSONObject())]))
    }

    func testNumbersAreCorrectlyRounded() throws {
        let cases: [(String, Double)] = [
            ("0.1", 0.1), ("75", 75), ("99.99", 99.99), ("123456789012345678901234567890", 1.2345678901234568e29),
            ("2.2250738585072014e-308", 2.2250738585072014e-308), ("1e-999", 0), ("-0", -0.0),
            ("9007199254740993", 9007199254740992), ("0.30000000000000004", 0.30000000000000004),
            ("1.7976931348623157e308", 1.7976931348623157e308), ("4.9e-324", 5e-324),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try JSON.parse(text).doubleValue, expected, text)
        }
        XCTAssertEqual(try JSON.parse("-0").doubleValue?.sign, .minus)
        for text in ["01", "-", "1.", ".5", "1e", "1e+", "+1", "0x10", "NaN", "Infinity", "-Infinity", "1e999", "1.5.2"] {
            rejects(text)
        }
    }

    func testStringsAndEscapes() throws {
        XCTAssertEqual(try JSON.parse(#""a\"b\\c\/d\b\f\n\r\t""#).stringValue, "a\"b\\c/d\u{8}\u{c}\n\r\t")
        XCTAssertEqual(try JSON.parse(#""\u00e9\u20AC""#).stringValue, "é€")
        XCTAssertEqual(try JSON.parse(#""\uD834\uDD1E""#).stringValue, "𝄞", "a surrogate pair is one character")
        XCTAssertEqual(try JSON.parse("\"héllo 𝄞\"").stringValue, "héllo 𝄞")
        rejects(#""\uD834""#)  // a lone high surrogate
        rejects(#""\uDD1E""#)  // a lone low surrogate
        rejects(#""\x41""#)
        rejects(#""\u12G4""#)
        rejects("\"tab\there\"")  // raw control character
        rejects("\"unterminated")
        rejects("'single'")
        XCTAssertThrowsError(try JSON.parse([0x22, 0xC3, 0x28, 0x22]), "invalid UTF-8")
        XCTAssertThrowsError(try JSON.parse([0x22, 0xC0, 0xAF, 0x22]), "overlong UTF-8")
        XCTAssertThrowsError(try JSON.parse([0xEF, 0xBB, 0xBF, 0x31]), "byte-order mark")
    }

    func testStructureRules() throws {
        for text in ["", " ", "[1,]", "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "{a:1}", "{\"a\":1 \"b\":2}", "[1]]", "1 2",
                     "[1] x", "/* c */ 1", "[", "{", "{\"a\"", "nul", "truth", "\u{0C}1"] {
            rejects(text)
        }
    }

    func testDuplicateNamesAreKeptAndTheLastWins() throws {
        let value = try JSON.parse(#"{"a":1,"a":2}"#)
        XCTAssertEqual(value.objectValue?.count, 2)
        XCTAssertEqual(value["a"]?.doubleValue, 2)
    }

    func testDepthIsLimitedWithAnErrorNotACrash() throws {
        XCTAssertNoThrow(try JSON.parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)))
        rejects(String(repeating: "[", count: 65) + String(repeating: "]", count: 65))
        rejects(String(repeating: "[", count: 100_000))
        rejects(String(repeating: "{\"a\":", count: 100_000))
        let deep = String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)
        XCTAssertNoThrow(try JSON.parse(deep, maxDepth: 10_000))
    }

    func testErrorsSayWhere() {
        XCTAssertThrowsError(try JSON.parse("[1, x]")) { error in
            XCTAssertTrue((error as? HTTPError)?.detail.contains("4") ?? false, "\(error)")
        }
    }
}

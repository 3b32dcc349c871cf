import XCTest
@testable import JSON

/// The cases of `JSONError.Kind` without their text, to compare in assertions.
private enum Fault: Equatable {
    case syntax, invalidUTF8, loneSurrogate, tooDeep, numberTooLarge

    init(_ error: JSONError) {
        switch error.kind {
        case .syntax: self = .syntax
        case .invalidUTF8: self = .invalidUTF8
        case .loneSurrogate: self = .loneSurrogate
        case .tooDeep: self = .tooDeep
        case .numberTooLarge: self = .numberTooLarge
        }
    }
}

final class JSONReaderTests: XCTestCase {
    private func rejects(_ text: String, _ fault: Fault = .syntax, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try JSON.parse(text), text, file: file, line: line) { error in
            XCTAssertEqual((error as? JSONError).map(Fault.init), fault, text, file: file, line: line)
        }
    }

    /// The error `parse` throws for `bytes`, typed: no cast is needed.
    private func error(_ bytes: ArraySlice<UInt8>, maxDepth: Int = JSON.defaultMaxDepth) -> JSONError? {
        do {
            _ = try JSON.parse(bytes, maxDepth: maxDepth)
            return nil
        } catch {
            return error
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
        for text in ["01", "-", "1.", ".5", "1e", "1e+", "+1", "0x10", "NaN", "Infinity", "-Infinity", "1.5.2"] {
            rejects(text)
        }
        rejects("1e999", .numberTooLarge)
        rejects("[-1e400]", .numberTooLarge)
    }

    func testStringsAndEscapes() throws {
        XCTAssertEqual(try JSON.parse(#""a\"b\\c\/d\b\f\n\r\t""#).stringValue, "a\"b\\c/d\u{8}\u{c}\n\r\t")
        XCTAssertEqual(try JSON.parse(#""\u00e9\u20AC""#).stringValue, "é€")
        XCTAssertEqual(try JSON.parse(#""\uD834\uDD1E""#).stringValue, "𝄞", "a surrogate pair is one character")
        XCTAssertEqual(try JSON.parse("\"héllo 𝄞\"").stringValue, "héllo 𝄞")
        // Member names decode their escapes too, each its own, whatever came before.
        let names = try JSON.parse(#"{"mem\u006fry":{"p\u0065rcent":1,"a\tb":2,"plain":3,"\"":4}}"#)
        XCTAssertEqual(names["memory"]?.objectValue?.map(\.key), ["percent", "a\tb", "plain", "\""])
        rejects(#""\uD834""#, .loneSurrogate)  // a lone high surrogate
        rejects(#""\uD834\u0041""#, .loneSurrogate)  // a high surrogate and no low one
        rejects(#""\uDD1E""#, .loneSurrogate)  // a lone low surrogate
        rejects(#""\x41""#)
        rejects(#""\u12G4""#)
        rejects("\"tab\there\"")  // raw control character
        rejects("\"unterminated")
        rejects("'single'")
        XCTAssertEqual(error([0x22, 0xC3, 0x28, 0x22]).map(Fault.init), .invalidUTF8, "a broken sequence")
        XCTAssertEqual(error([0x22, 0xC0, 0xAF, 0x22]).map(Fault.init), .invalidUTF8, "overlong UTF-8")
        XCTAssertEqual(error([0x22, 0xED, 0xA0, 0x80, 0x22]).map(Fault.init), .invalidUTF8, "an encoded surrogate")
        XCTAssertEqual(error([0xEF, 0xBB, 0xBF, 0x31]).map(Fault.init), .syntax, "byte-order mark")
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
        rejects(String(repeating: "[", count: 65) + String(repeating: "]", count: 65), .tooDeep)
        rejects(String(repeating: "[", count: 100_000), .tooDeep)
        rejects(String(repeating: "{\"a\":", count: 100_000), .tooDeep)
        let deep = String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)
        XCTAssertNoThrow(try JSON.parse(deep, maxDepth: 10_000))
    }

    func testErrorsSayWhat() {
        XCTAssertEqual(error(Array("[1, x]".utf8)[...])?.description,
                       "invalid JSON: expected a value but found 'x' at byte offset 4")
        XCTAssertEqual(error(Array("1e999".utf8)[...])?.description,
                       "invalid JSON: number is too large for a Double (beyond ±1.8e308) at byte offset 0")
        XCTAssertEqual(error(Array("[[1]]".utf8)[...], maxDepth: 1)?.description,
                       "invalid JSON: arrays and objects nest deeper than 1 at byte offset 1")
    }

    func testOffsetsCountFromTheSlicesFirstByte() {
        let bytes = Array("xx[1, x]".utf8)
        XCTAssertEqual(error(bytes[2...])?.offset, 4)
        XCTAssertEqual(error(bytes[2...])?.description, error(Array(bytes[2...])[...])?.description,
                       "a slice and its copy fail alike")
    }
}

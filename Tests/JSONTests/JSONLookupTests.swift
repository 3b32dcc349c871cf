import XCTest
import JSON

final class JSONLookupTests: XCTestCase {
    private let percent: JSONPath = ["memory", "percent"]

    /// The lookup of `path` in `text`, or the error it threw.
    private func lookup(_ text: String, _ path: JSONPath, maxDepth: Int = JSON.defaultMaxDepth) -> Result<JSONLookup, JSONError> {
        Result { () throws(JSONError) in try JSON.lookup(path, in: Array(text.utf8), maxDepth: maxDepth) }
    }

    /// Asserts that the lookup finds `expected` and agrees with `parse` and subscripts.
    private func assertFinds(_ text: String, _ path: [String], _ expected: JSONLookup, maxDepth: Int = JSON.defaultMaxDepth,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(try lookup(text, JSONPath(path), maxDepth: maxDepth).get(), expected, text, file: file, line: line)
        var value = try? JSON.parse(text, maxDepth: maxDepth)
        for name in path { value = value?[name] }
        switch (expected, value) {
        case (.missing, nil): break
        case (.number(let number), .number(let parsed)?): XCTAssertEqual(number, parsed, text, file: file, line: line)
        case (.other(let written), let parsed?) where !written.hasSuffix("…"):
            XCTAssertEqual(try JSON.parse(written, maxDepth: maxDepth), parsed, text, file: file, line: line)
        case (.other, _?): break
        default: XCTFail("parse and subscripts give \(String(describing: value)) in \(text)", file: file, line: line)
        }
    }

    /// Asserts that the lookup throws the error `parse` throws, and that there is one.
    private func assertRejects(_ text: String, _ path: JSONPath = ["memory", "percent"], maxDepth: Int = JSON.defaultMaxDepth,
                               file: StaticString = #filePath, line: UInt = #line) {
        let parsed = Result { () throws(JSONError) in try JSON.parse(text, maxDepth: maxDepth) }
        guard case .failure(let expected) = parsed else {
            return XCTFail("parse reads \(text)", file: file, line: line)
        }
        switch lookup(text, path, maxDepth: maxDepth) {
        case .failure(let error): XCTAssertEqual(error.description, expected.description, text, file: file, line: line)
        case .success(let found): XCTFail("the lookup found \(found) in \(text)", file: file, line: line)
        }
    }

    func testTheUsageAPIBody() {
        let body = #"{"memory":{"free":1234567168,"used":912916480,"total":2147483648,"percent":42.5}}"#
        assertFinds(body, ["memory", "percent"], .number(42.5))
        assertFinds(body, ["memory", "total"], .number(2147483648))
        assertFinds(body, ["memory"], .other(#"{"free":1234567168,"used":912916480,"total":2147483648,"percent":42.5}"#))
        assertFinds(body, [], .other(body))
        assertFinds(body, ["memory", "percent", "x"], .missing)
        assertFinds(body, ["percent"], .missing)
        assertFinds(" \n{ \"memory\" : { \"percent\" : -0.5e1 } } \t", ["memory", "percent"], .number(-5))
    }

    func testMissing() {
        assertFinds(#"{"memory":{"used":1}}"#, ["memory", "percent"], .missing)
        assertFinds(#"{"memory":{}}"#, ["memory", "percent"], .missing)
        assertFinds(#"{}"#, ["memory", "percent"], .missing)
        assertFinds(#"{"percent":1,"memory":{"total":2}}"#, ["memory", "percent"], .missing)
        // A name deeper in, or in an array, is not on the path.
        assertFinds(#"{"x":{"memory":{"percent":1}}}"#, ["memory", "percent"], .missing)
        assertFinds(#"[{"memory":{"percent":1}}]"#, ["memory", "percent"], .missing)
        assertFinds(#"{"memory":[{"percent":1}]}"#, ["memory", "percent"], .missing)
    }

    func testAPathThroughAValueThatIsNotAnObject() {
        for value in ["1", #""percent""#, "true", "null", "[]", #"["percent", 1]"#] {
            assertFinds(#"{"memory":\#(value)}"#, ["memory", "percent"], .missing)
        }
        assertFinds("7", ["memory"], .missing)
        assertFinds("7", [], .number(7))
    }

    func testValuesThatAreNotNumbers() {
        assertFinds(#"{"memory":{"percent":"42.5"}}"#, ["memory", "percent"], .other(#""42.5""#))
        assertFinds(#"{"memory":{"percent":null}}"#, ["memory", "percent"], .other("null"))
        assertFinds(#"{"memory":{"percent":true}}"#, ["memory", "percent"], .other("true"))
        assertFinds(#"{"memory":{"percent":false }}"#, ["memory", "percent"], .other("false"))
        assertFinds(#"{"memory":{"percent":[]}}"#, ["memory", "percent"], .other("[]"))
        assertFinds(#"{"memory":{"percent":{ }}}"#, ["memory", "percent"], .other("{ }"))
        assertFinds(#"{"memory":{"percent":[1, {"a":[2]}]}}"#, ["memory", "percent"], .other(#"[1, {"a":[2]}]"#))
        assertFinds(#"{"memory":{"percent":"\u00e9\"x"}}"#, ["memory", "percent"], .other(#""\u00e9\"x""#))
    }

    func testALongValueIsCutBeforeACharacter() throws {
        let long = "\"" + String(repeating: "a", count: JSONLookup.maxTextBytes - 2) + "éé\""
        guard case .other(let text) = try lookup(#"{"memory":{"percent":\#(long)}}"#, percent).get() else {
            return XCTFail("a string is not a number")
        }
        XCTAssertEqual(text, "\"" + String(repeating: "a", count: JSONLookup.maxTextBytes - 2) + "…")
        let exact = "\"" + String(repeating: "b", count: JSONLookup.maxTextBytes - 2) + "\""
        XCTAssertEqual(try lookup(#"{"memory":{"percent":\#(exact)}}"#, percent).get(), .other(exact))
    }

    func testARepeatedNameGivesTheLastMember() {
        assertFinds(#"{"memory":{"percent":1,"percent":2}}"#, ["memory", "percent"], .number(2))
        assertFinds(#"{"memory":{"percent":1,"percent":"x"}}"#, ["memory", "percent"], .other(#""x""#))
        assertFinds(#"{"memory":{"percent":"x","percent":3}}"#, ["memory", "percent"], .number(3))
        // The last "memory" decides, even when it has no percent or is not an object.
        assertFinds(#"{"memory":{"percent":1},"memory":{"used":2}}"#, ["memory", "percent"], .missing)
        assertFinds(#"{"memory":{"percent":1},"memory":5}"#, ["memory", "percent"], .missing)
        assertFinds(#"{"memory":5,"memory":{"percent":4}}"#, ["memory", "percent"], .number(4))
        assertFinds(#"{"memory":{"percent":1},"memory":{"percent":{"a":1}}}"#, ["memory", "percent"], .other(#"{"a":1}"#))
        assertFinds(#"{"memory":{"percent":[1]},"memory":{}}"#, ["memory", "percent"], .missing)
    }

    func testNamesCompareWithEscapesDecoded() {
        assertFinds(#"{"mem\u006fry":{"p\u0065rcent":6}}"#, ["memory", "percent"], .number(6))
        assertFinds(#"{"memory":{"per\/cent":6}}"#, ["memory", "per/cent"], .number(6))
        assertFinds(#"{"\ud83d\ude00":{"é":7}}"#, ["😀", "é"], .number(7))
        assertFinds(#"{"memory\u0000":{"percent":6}}"#, ["memory", "percent"], .missing)
        // A name that only starts like the one on the path, or is its prefix.
        assertFinds(#"{"memoryx":{"percent":6},"memor":{"percent":6}}"#, ["memory", "percent"], .missing)
        // An escaped name off the path does not disturb one on it.
        assertFinds(#"{"memory":{"a\n":{"b\t":1},"percent":8,"c\"":2}}"#, ["memory", "percent"], .number(8))
    }

    func testDepth() {
        let deep = String(repeating: "[", count: 62) + String(repeating: "]", count: 62)
        assertFinds(#"{"memory":{"percent":1},"x":\#(deep)}"#, ["memory", "percent"], .number(1))
        assertFinds(#"{"memory":{"percent":\#(deep)}}"#, ["memory", "percent"], .other(deep))
        assertFinds(#"{"a":{"b":{"c":{"d":{"e":2}}}}}"#, ["a", "b", "c", "d", "e"], .number(2))
        // Beyond 64 open containers the stack of kinds moves on to an array.
        let objects = String(repeating: #"{"a":"#, count: 70) + "1" + String(repeating: "}", count: 70)
        assertFinds("[" + objects + "]", ["a"], .missing, maxDepth: 71)
        assertFinds(objects, Array(repeating: "a", count: 70), .number(1), maxDepth: 70)
        assertFinds(objects, Array(repeating: "a", count: 69), .other(#"{"a":1}"#), maxDepth: 70)
        assertFinds(objects, Array(repeating: "a", count: 71), .missing, maxDepth: 70)
        let mixed = String(repeating: #"[{"a":"#, count: 40) + "1" + String(repeating: "}]", count: 40)
        assertFinds(mixed, ["a"], .missing, maxDepth: 80)
        assertFinds(#"{"a":"# + mixed + "}", ["a"], .other(String(mixed.prefix(JSONLookup.maxTextBytes)) + "…"), maxDepth: 81)
        assertRejects(mixed, ["a"], maxDepth: 79)
        assertRejects(objects, JSONPath(Array(repeating: "a", count: 70)), maxDepth: 69)
    }

    func testTheDepthLimitIsParse() {
        assertRejects(#"{"memory":{"percent":[[1]]}}"#, maxDepth: 3)
        XCTAssertEqual(try lookup(#"{"memory":{"percent":[[1]]}}"#, percent, maxDepth: 4).get(), .other("[[1]]"))
        assertRejects(#"{"memory":{"percent":1}}"#, maxDepth: 1)
        XCTAssertEqual(try lookup(#"{"memory":{"percent":1}}"#, percent, maxDepth: 2).get(), .number(1))
        assertRejects("[]", [], maxDepth: 0)
        XCTAssertEqual(try lookup("1", [], maxDepth: 0).get(), .number(1))
    }

    func testFaultsAfterTheValueStillThrow() {
        assertRejects(#"{"memory":{"percent":1}} x"#)
        assertRejects(#"{"memory":{"percent":1},"z":1e999}"#)
        assertRejects(#"{"memory":{"percent":1},"z":"\ud800"}"#)
        assertRejects(#"{"memory":{"percent":1},"z":"\#u{01}"}"#)
        assertRejects(#"{"memory":{"percent":1},"z":[1,]}"#)
        assertRejects(#"{"memory":{"percent":1},"z":01}"#)
        assertRejects(#"{"memory":{"percent":1},"#)
        assertRejects(#"{"memory":{"percent":1}"#)
        assertRejects(#"{"memory":{"percent":1}}}"#)
        assertRejects(#"{"memory":{"percent":1},"z":tru}"#)
        assertRejects(#"{"memory":{"percent":1},"z":"\x"}"#)
        assertRejects(#"{"memory":{"percent":1},z:1}"#)
        assertRejects(#"{"memory":{"percent":1} "z":1}"#)
        assertRejects(#"{"memory":{"percent":1},"z" 1}"#)
        assertRejects(#"{"memory":{"percent":1},"z":[[1]]}"#, maxDepth: 2)
        assertRejects(#"{"memory":{"percent":1},"z":\#(String(repeating: "[", count: 70))1]}"#)
    }

    func testFaultsBeforeAndAtTheValue() {
        assertRejects("")
        assertRejects(" ")
        assertRejects("\u{FEFF}{\"memory\":{\"percent\":1}}")
        assertRejects(#"{"memory":{"percent":1e999}}"#)
        assertRejects(#"{"memory":{"percent":-}}"#)
        assertRejects(#"{"memory":{"percent":NaN}}"#)
        assertRejects(#"{"memory":{"percent":"x}}"#)
        assertRejects(#"{"mem\uDC00ry":{"percent":1}}"#)
        assertRejects(#"{"mem\u00"#)
        assertRejects(#"{"memory":{"percent",1}}"#)
    }

    func testInvalidUTF8IsRefusedAnywhere() {
        for bytes: [UInt8] in [
            Array(#"{"memory":{"percent":1},"z":""#.utf8) + [0xC0, 0x80] + Array(#""}"#.utf8),
            Array(#"{"\#u{7F}":1,""#.utf8) + [0xED, 0xA0, 0x80] + Array(#"":1}"#.utf8),
            Array(#"{"memory":{"percent":""#.utf8) + [0xF4, 0x90, 0x80, 0x80] + Array(#""}}"#.utf8),
        ] {
            let expected = Result { () throws(JSONError) in try JSON.parse(bytes) }
            let found = Result { () throws(JSONError) in try JSON.lookup(percent, in: bytes) }
            guard case .failure(let parseError) = expected, case .failure(let lookupError) = found else {
                return XCTFail("\(bytes) read: \(expected) \(found)")
            }
            XCTAssertEqual(lookupError.description, parseError.description)
        }
    }

    func testASliceReadsLikeItsCopy() throws {
        let bytes = Array(#"x{"memory":{"percent":3}}"#.utf8)
        XCTAssertEqual(try JSON.lookup(percent, in: bytes[1...]), .number(3))
        XCTAssertThrowsError(try JSON.lookup(percent, in: bytes[1...].dropLast())) { error in
            XCTAssertEqual((error as? JSONError)?.offset, 23)
        }
    }
}

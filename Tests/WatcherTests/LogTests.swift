import HTTPLite
import JSON
import XCTest
@testable import Watcher

final class LogTests: XCTestCase {
    // 2026-11-25T12:00:00Z
    private let noon = WallClock(seconds: 1_795_608_000, nanoseconds: 123_456_789)

    func testTimestampsHaveMilliseconds() {
        XCTAssertEqual(noon.rfc3339Milliseconds, "2026-11-25T12:00:00.123Z")
        XCTAssertEqual(WallClock(seconds: 1_795_608_000, nanoseconds: 7_999_999).rfc3339Milliseconds,
                       "2026-11-25T12:00:00.007Z")
        XCTAssertEqual(WallClock(seconds: 1_795_608_000, nanoseconds: 0).rfc3339Milliseconds,
                       "2026-11-25T12:00:00.000Z")
        XCTAssertEqual(noon.rfc3339, "2026-11-25T12:00:00Z", "Events keep second precision")
    }

    func testLogfmtLine() {
        let line = Log.line(.warning, "the Usage API failed", [("error", "HTTP 500"), ("policy", "keep")],
                            at: noon, format: .logfmt)
        XCTAssertEqual(line, "2026-11-25T12:00:00.123Z WARN the Usage API failed error=\"HTTP 500\" policy=keep\n")
    }

    func testLogfmtEscapesControlCharactersInValues() {
        let line = Log.line(.warning, "failed", [("error", "a\u{1B}[31mred\u{0}\u{7F}\u{85}\nx"), ("pod", "é")],
                            at: noon, format: .logfmt)
        XCTAssertEqual(line, #"2026-11-25T12:00:00.123Z WARN failed error="a\u001B[31mred\u0000\u007F\u0085\nx" pod=é"# + "\n")
        XCTAssertEqual(Log.quoted("tab\there"), #""tab\there""#)
    }

    func testJSONLineHasTimeLevelMessageThenTheFieldsAsStrings() throws {
        let line = Log.line(.info, "label set", [("label", "no"), ("percent", "80")], at: noon, format: .json)
        XCTAssertEqual(line, #"{"time":"2026-11-25T12:00:00.123Z","level":"info","msg":"label set","label":"no","percent":"80"}"# + "\n")
        XCTAssertEqual(try JSON.parse(String(line.dropLast()))["percent"], .string("80"))
    }

    func testJSONEscapesQuotesControlCharactersAndKeepsNonASCII() throws {
        let tricky = "say \"hi\"\\ \n\r\t\u{1}\u{1F} é 日本 😀"
        let line = Log.line(.error, "bad \"pod\"\n", [("error", tricky)], at: noon, format: .json)
        XCTAssertEqual(line.filter { $0 == "\n" }.count, 1, "one line, whatever the values hold")
        XCTAssertTrue(line.hasSuffix(#""msg":"bad \"pod\"\n","error":"say \"hi\"\\ \n\r\t\u0001\u001F é 日本 😀"}"# + "\n"), line)
        let object = try JSON.parse(String(line.dropLast()))
        XCTAssertEqual(object["msg"], .string("bad \"pod\"\n"))
        XCTAssertEqual(object["error"], .string(tricky))
        XCTAssertEqual(object["level"], .string("error"))
    }

    func testLevels() {
        XCTAssertEqual(Log.Level(setting: "warn"), .warning)
        XCTAssertEqual(Log.Level(setting: "debug"), .debug)
        XCTAssertNil(Log.Level(setting: "WARN"))
        XCTAssertNil(Log.Level(setting: "warning"))
        XCTAssertTrue(Log.Level.debug < .info && Log.Level.info < .warning && Log.Level.warning < .error)
    }
}

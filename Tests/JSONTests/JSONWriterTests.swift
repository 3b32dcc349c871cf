import XCTest
import JSON

final class JSONWriterTests: XCTestCase {
    func testTheLabelPatchIsWrittenExactly() {
        let patch: JSON = ["metadata": ["labels": .object([("echo.soketi.app/accepts-new-connections", "no")])]]
        XCTAssertEqual(patch.serialized(), #"{"metadata":{"labels":{"echo.soketi.app/accepts-new-connections":"no"}}}"#)
        XCTAssertEqual(patch.serializedBytes(), Array(patch.serialized().utf8))
    }

    func testEscaping() {
        XCTAssertEqual(JSON.string("q\"b\\s/\n\r\t\u{8}\u{c}\u{1}\u{1F}é𝄞").serialized(),
                       #""q\"b\\s/\n\r\t\b\f\u0001\u001Fé𝄞""#)
    }

    func testNumbers() {
        XCTAssertEqual(JSON.number(3).serialized(), "3")
        XCTAssertEqual(JSON.number(-2).serialized(), "-2")
        XCTAssertEqual(JSON.number(0.1).serialized(), "0.1")
        XCTAssertEqual(JSON.number(80.5).serialized(), "80.5")
        XCTAssertEqual(JSON.number(1e300).serialized(), "1e+300")
        XCTAssertEqual(JSON.number(.nan).serialized(), "null", "JSON has no NaN")
        XCTAssertEqual(JSON.number(.infinity).serialized(), "null")
    }

    func testOrderIsKept() {
        let value: JSON = .object([("z", 1), ("a", [true, .null])])
        XCTAssertEqual(value.serialized(), #"{"z":1,"a":[true,null]}"#)
    }

    func testRoundTrips() throws {
        let values: [JSON] = [
            .null, .bool(false), .number(-0.25), .number(1.7976931348623157e308), .number(5e-324),
            .string(""), .string("\u{0}\u{7F}\u{2028}😀"), .array([.array([]), .object(JSONObject())]),
            .object([("", .number(1)), ("k", .object([("n", .array([.string("x")]))]))]),
        ]
        for value in values {
            XCTAssertEqual(try JSON.parse(value.serialized()), value, value.serialized())
        }
    }
}

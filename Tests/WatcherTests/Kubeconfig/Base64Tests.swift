import XCTest
@testable import Watcher

final class Base64Tests: XCTestCase {
    /// RFC 4648 §10 test vectors.
    private let vectors: [(String, String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ]

    func testRFC4648Vectors() {
        for (plain, encoded) in vectors {
            XCTAssertEqual(Base64.encode(Array(plain.utf8)), encoded)
            XCTAssertEqual(Base64.decode(encoded), Array(plain.utf8), encoded)
        }
    }

    func testEveryByteValueRoundTrips() {
        let bytes = (0...255).map { UInt8($0) } + [0xFF, 0xFE, 0x00]
        let encoded = Base64.encode(bytes)
        XCTAssertEqual(Base64.encode([0xFF, 0xFE, 0x00]), "//4A")
        XCTAssertEqual(Base64.decode(encoded), bytes)
    }

    func testLineBreaksAreSkippedAsGoSkipsThem() {
        XCTAssertEqual(Base64.decode("Zm9v\nYmFy\r\n"), Array("foobar".utf8))
    }

    func testMalformedInputIsRejected() {
        for bad in ["Zg", "Zg=", "Z===", "Zm9v!", "Zg==Zg==", "Zm 9v", "Zm9vY", "=Zg="] {
            XCTAssertNil(Base64.decode(bad), bad)
        }
    }
}

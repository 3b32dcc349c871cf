import Glibc
import XCTest
@testable import Watcher

final class TokenFileTests: XCTestCase {
    private func write(_ text: String, to path: String) {
        let file = fopen(path, "w")!
        fputs(text, file)
        fclose(file)
    }

    func testTheFileIsReadAgainAfterAMinuteAndWhenForced() throws {
        let path = "\(temporaryFolder())token-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(path) }
        var tokens = TokenFile()
        write("first\n", to: path)
        XCTAssertEqual(try tokens.token(at: path, now: 100, forceReload: false), "first")

        write("second", to: path)  // the kubelet rotated it
        XCTAssertEqual(try tokens.token(at: path, now: 159.9, forceReload: false), "first", "cached within a minute")
        XCTAssertEqual(try tokens.token(at: path, now: 160, forceReload: false), "second", "re-read after 60 s")

        write("third", to: path)
        XCTAssertEqual(try tokens.token(at: path, now: 161, forceReload: true), "third", "re-read after a 401")
        XCTAssertEqual(try tokens.token(at: path, now: 200, forceReload: false), "third")
    }

    private func temporaryFolder() -> String {
        (getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp") + "/"
    }
}

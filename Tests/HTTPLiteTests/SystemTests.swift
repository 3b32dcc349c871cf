import Glibc
import HTTPLite
import XCTest

final class SystemTests: XCTestCase {
    func testAFailedCallNamesTheCallAndErrno() {
        XCTAssertThrowsError(try System.openForReading("/nonexistent/file")) { error in
            XCTAssertEqual("\(error)", "open: No such file or directory (errno 2)")
        }
        XCTAssertThrowsError(try readLocalFile("/nonexistent/file")) { error in
            XCTAssertEqual((error as? HTTPError)?.description, "system: open /nonexistent/file: No such file or directory (errno 2)")
        }
    }

    /// Nothing pending on a non-blocking descriptor is nil, not a failure; a pending signal is its number.
    func testWouldBlockIsNotAFailure() throws {
        try System.blockSignals([SIGUSR1])
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGUSR1)
        defer { sigprocmask(SIG_UNBLOCK, &blocked, nil) }
        let descriptor = try System.signalfd([SIGUSR1])
        defer { System.close(descriptor) }
        XCTAssertNil(try System.readSignal(descriptor))
        XCTAssertEqual(raise(SIGUSR1), 0)
        XCTAssertEqual(try System.readSignal(descriptor), SIGUSR1)
        XCTAssertNil(try System.readSignal(descriptor))
    }

    func testAPipeCarriesBytesAndEndsWhenItsWriteEndCloses() throws {
        let ends = try System.pipe()
        defer { System.close(ends.read) }
        try Array("hi".utf8).withUnsafeBytes { raw in XCTAssertNoThrow(try System.writeAll(ends.write, raw)) }
        System.close(ends.write)
        var buffer = [UInt8](repeating: 0, count: 8)
        let first = try buffer.withUnsafeMutableBytes { try System.read(ends.read, into: $0) }
        XCTAssertEqual(first, 2)
        XCTAssertEqual(Array(buffer[0..<2]), Array("hi".utf8))
        XCTAssertEqual(try buffer.withUnsafeMutableBytes { try System.read(ends.read, into: $0) }, 0)
    }

    func testTimeConversionsRoundTrip() {
        XCTAssertEqual(System.secondsSinceEpoch((2026, 11, 25, 12, 0, 0)), 1_795_608_000)
        XCTAssert(System.utcTime(1_795_608_000) == (2026, 11, 25, 12, 0, 0))
    }
}

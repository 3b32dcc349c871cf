import Glibc
import HTTPLite
import XCTest
@testable import Watcher

final class ChildProcessTests: XCTestCase {
    /// With SIGCHLD ignored the kernel reaps children itself and waitpid answers
    /// ECHILD: the exit status is lost, so the child must not count as a success.
    func testAChildWhoseEndCannotBeLearnedIsAFailure() throws {
        let previous = signal(SIGCHLD, SIG_IGN)
        defer { signal(SIGCHLD, previous) }
        let result = try runChild(["/bin/sh", "-c", "echo token; exit 7"], environment: [], timeout: 5)
        let failure = try XCTUnwrap(result.failure, "a child whose exit status is unknown counted as a success")
        XCTAssertTrue(failure.hasPrefix("cannot learn how it ended: waitpid: "), failure)
        XCTAssertTrue(failure.hasSuffix("(errno \(ECHILD))"), failure)
    }

    func testAProgramThatCannotStartIsNamed() {
        XCTAssertThrowsError(try runChild(["/nonexistent/plugin"], environment: [], timeout: 5)) { error in
            XCTAssertEqual("\(error)", "/nonexistent/plugin: No such file or directory")
        }
    }

    func testTheChildGetsTheGivenEnvironmentAndNoInheritedSignalMask() throws {
        // The watcher blocks SIGTERM for its signalfd; a child that inherited the mask could not be stopped.
        try System.blockSignals([SIGTERM])
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        defer { sigprocmask(SIG_UNBLOCK, &blocked, nil) }
        let result = try runChild(["/bin/sh", "-c", "echo \"$A\"; grep SigBlk /proc/self/status"],
                                  environment: ["A=b"], timeout: 5)
        XCTAssertNil(result.failure)
        XCTAssertEqual(String(decoding: result.standardOutput, as: UTF8.self), "b\nSigBlk:\t0000000000000000\n")
    }
}

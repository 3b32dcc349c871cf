import Glibc
import HTTPLite
import XCTest
@testable import Watcher

final class ExecPluginTests: XCTestCase {
    private let v1 = "client.authentication.k8s.io/v1"

    private func credential(_ json: String, apiVersion: String? = nil) throws -> ExecCredential {
        try ExecCredential.parse(Array(json.utf8), apiVersion: apiVersion ?? v1)
    }

    private func plugin(_ script: String, environment: [String] = []) -> ExecPlugin {
        ExecPlugin(command: "/bin/sh", arguments: ["-c", script, "plugin"], environment: environment, apiVersion: v1,
                   installHint: nil, cluster: nil, origin: "user \"u\" in /k/config")
    }

    func testExecCredentialFields() throws {
        let token = try credential(#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"t","expirationTimestamp":"2026-11-25T12:00:00Z"}}"#)
        XCTAssertEqual(token, ExecCredential(token: "t", certificate: nil, key: nil, expiry: 1_795_608_000))
        XCTAssertFalse(token.hasExpired(now: 1_795_607_999))
        XCTAssertTrue(token.hasExpired(now: 1_795_608_000))
        let pair = try credential(#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{"clientCertificateData":"CERT","clientKeyData":"KEY"}}"#,
                                  apiVersion: "client.authentication.k8s.io/v1beta1")
        XCTAssertEqual(pair, ExecCredential(token: nil, certificate: Array("CERT".utf8), key: Array("KEY".utf8), expiry: nil))
        XCTAssertFalse(pair.hasExpired(now: Int.max))
    }

    func testBadExecCredentials() {
        let cases: [(String, String)] = [
            ("not json", "did not print an ExecCredential"),
            (#"{"kind":"Other","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"t"}}"#, "not ExecCredential"),
            (#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"t"}}"#, "asks for client.authentication.k8s.io/v1"),
            (#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1"}"#, "no status"),
            (#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{}}"#, "neither status.token"),
            (#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"clientKeyData":"k"}}"#, "go together"),
            (#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"t","expirationTimestamp":"tomorrow"}}"#, "not an RFC 3339 time"),
        ]
        for (json, message) in cases {
            XCTAssertThrowsError(try credential(json), json) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error) should say \(message)")
            }
        }
    }

    func testRFC3339() {
        XCTAssertEqual(parseRFC3339("1970-01-01T00:00:00Z"), 0)
        XCTAssertEqual(parseRFC3339("2026-11-25T12:00:00Z"), 1_795_608_000)
        XCTAssertEqual(parseRFC3339("2026-11-25T13:30:00.123456+01:30"), 1_795_608_000)
        XCTAssertEqual(parseRFC3339("2026-11-25t10:00:00-02:00"), 1_795_608_000)
        for bad in ["", "2026-11-25", "2026-11-25T12:00:00", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z",
                    "2026-11-25T12:00:00.Z", "2026-11-25T12:00:00+0100", "2026-11-25T12:00:00Zjunk"] {
            XCTAssertNil(parseRFC3339(bad), bad)
        }
    }

    func testRunPassesArgumentsEnvironmentAndExecInfo() throws {
        let script = #"""
            [ "$FOO" = bar ] || { echo "FOO is $FOO" >&2; exit 1; }
            case "$KUBERNETES_EXEC_INFO" in *'"interactive":false'*) ;; *) echo "info: $KUBERNETES_EXEC_INFO" >&2; exit 1;; esac
            [ -t 0 ] && exit 1
            printf '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"%s"}}' "$0"
            """#
        let result = try plugin(script, environment: ["FOO=bar"]).run()
        XCTAssertEqual(result.token, "plugin")
    }

    func testAFailingPluginReportsItsStderrOnOneLine() {
        XCTAssertThrowsError(try plugin("echo first line >&2; echo second line >&2; exit 3").run()) { error in
            XCTAssertEqual("\(error)", "user \"u\" in /k/config: exec plugin /bin/sh failed (exit status 3): first line | second line")
        }
        XCTAssertThrowsError(try plugin("echo not json").run()) { error in
            XCTAssertEqual("\(error)", "user \"u\" in /k/config: exec plugin /bin/sh: did not print an ExecCredential JSON object")
        }
        let missing = ExecPlugin(command: "/nonexistent/plugin", arguments: [], environment: [], apiVersion: v1,
                                 installHint: "install it from example.com", cluster: nil, origin: "user \"u\" in /k")
        XCTAssertThrowsError(try missing.run()) { error in
            XCTAssertEqual("\(error)", "user \"u\" in /k: exec plugin cannot start: /nonexistent/plugin: No such file or directory (install it from example.com)")
        }
    }

    func testAChildThatHangsIsKilledAtTheTimeout() throws {
        let started = monotonicSeconds()
        let result = try runChild(["/bin/sh", "-c", "echo partial; exec sleep 30"], environment: [], timeout: 0.5)
        XCTAssertLessThan(monotonicSeconds() - started, 3)
        XCTAssertEqual(result.failure, "timed out after 0.5 s")
        XCTAssertEqual(result.standardOutput, Array("partial\n".utf8))
    }

    func testAChildIsKilledWhenTheInterruptDescriptorIsReadable() throws {
        var descriptors: [Int32] = [-1, -1]
        XCTAssertEqual(pipe(&descriptors), 0)
        defer { descriptors.forEach { close($0) } }
        XCTAssertEqual(write(descriptors[1], "x", 1), 1)
        let started = monotonicSeconds()
        let result = try runChild(["/bin/sh", "-c", "exec sleep 30"], environment: [], timeout: 20, interrupt: descriptors[0])
        XCTAssertLessThan(monotonicSeconds() - started, 3)
        XCTAssertEqual(result.failure, "interrupted")
    }

    func testExitStatusAndSignalsAreReported() throws {
        XCTAssertNil(try runChild(["/bin/true"], environment: [], timeout: 5).failure)
        XCTAssertEqual(try runChild(["/bin/sh", "-c", "exit 7"], environment: [], timeout: 5).failure, "exit status 7")
        XCTAssertEqual(try runChild(["/bin/sh", "-c", "kill -TERM $$"], environment: [], timeout: 5).failure, "killed by signal 15")
    }
}

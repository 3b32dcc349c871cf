import XCTest
@testable import Watcher

final class SettingsTests: XCTestCase {
    private func parse(_ arguments: [String], _ environment: [String: String] = [:]) -> Result<Settings.Request, SettingErrors> {
        Settings.parse(arguments: arguments, environment: environment)
    }

    private func settings(_ arguments: [String], _ environment: [String: String] = [:],
                          file: StaticString = #filePath, line: UInt = #line) throws -> Settings {
        guard case .success(.run(let settings)) = parse(arguments, environment) else {
            XCTFail("expected settings, got \(parse(arguments, environment))", file: file, line: line)
            throw XCTSkip()
        }
        return settings
    }

    private func errors(_ arguments: [String], _ environment: [String: String] = [:]) -> [SettingError] {
        guard case .failure(let failure) = parse(arguments, environment) else { return [] }
        return failure.errors
    }

    func testDefaultsMatchTheOriginalTool() throws {
        let settings = try settings([])
        XCTAssertNil(settings.podNamespace)
        XCTAssertEqual(settings.podName, "some-pod")
        XCTAssertEqual(settings.echoAppPort, 6001)
        XCTAssertEqual(settings.usageURL.description, "http://127.0.0.1:6001/usage")
        XCTAssertEqual(settings.memoryPercent, 75)
        XCTAssertEqual(settings.checkingInterval, 1)
        XCTAssertFalse(settings.testMode)
        XCTAssertEqual(settings.label, "echo.soketi.app/accepts-new-connections")
        XCTAssertEqual(settings.onUsageFailure, .keep)
        XCTAssertEqual(settings.usageFailureThreshold, 3)
        XCTAssertEqual(settings.podResyncInterval, 30)
        XCTAssertEqual(settings.startupTimeout, 60)
        XCTAssertEqual(settings.usageTimeout, 1)
        XCTAssertEqual(settings.apiTimeout, 5)
        XCTAssertFalse(settings.verbose)
    }

    func testFlagsBeatEnvironmentWhichBeatsDefaults() throws {
        let environment = ["POD_NAME": "from-env", "MEMORY_PERCENT": "60", "ECHO_APP_PORT": "7000", "TEST_MODE": "yes"]
        let fromEnv = try settings(["network:watch"], environment)
        XCTAssertEqual(fromEnv.podName, "from-env")
        XCTAssertEqual(fromEnv.memoryPercent, 60)
        XCTAssertEqual(fromEnv.usageURL.description, "http://127.0.0.1:7000/usage")
        XCTAssertTrue(fromEnv.testMode)

        let fromFlags = try settings(["network:watch", "--pod-name", "from-flag", "--memory-percent=90",
                                      "--interval", "0.25", "--test=false"], environment)
        XCTAssertEqual(fromFlags.podName, "from-flag")
        XCTAssertEqual(fromFlags.memoryPercent, 90)
        XCTAssertEqual(fromFlags.checkingInterval, 0.25)
        XCTAssertFalse(fromFlags.testMode)
        XCTAssertEqual(try settings(["--checking-interval", "2"]).checkingInterval, 2)
    }

    func testEverySettingHasItsFlagAndVariable() throws {
        let settings = try settings([
            "--pod-namespace", "ns", "--echo-app-port", "9601", "--kubernetes-label", "ws.soketi.app/accepts-new-connections",
            "--usage-url", "http://127.0.0.1:9601/usage", "--usage-timeout", "0.5", "--on-usage-failure", "reject",
            "--usage-failure-threshold", "5", "--pod-resync-interval", "10", "--startup-timeout", "3",
            "--api-timeout", "2", "-v", "--test",
        ])
        XCTAssertEqual(settings.podNamespace, "ns")
        XCTAssertEqual(settings.echoAppPort, 9601)
        XCTAssertEqual(settings.label, "ws.soketi.app/accepts-new-connections")
        XCTAssertEqual(settings.usageURL.port, 9601)
        XCTAssertEqual(settings.usageTimeout, 0.5)
        XCTAssertEqual(settings.onUsageFailure, .reject)
        XCTAssertEqual(settings.usageFailureThreshold, 5)
        XCTAssertEqual(settings.podResyncInterval, 10)
        XCTAssertEqual(settings.startupTimeout, 3)
        XCTAssertEqual(settings.apiTimeout, 2)
        XCTAssertTrue(settings.verbose)
        XCTAssertTrue(settings.testMode)
    }

    func testServerPortIsTheEchoAppPortUnderItsLaterName() throws {
        // The soketi chart sets SERVER_PORT=9601 (its metrics port, where soketi serves /usage).
        XCTAssertEqual(try settings([], ["SERVER_PORT": "9601"]).usageURL.description, "http://127.0.0.1:9601/usage")
        XCTAssertEqual(try settings(["--server-port", "9601"]).echoAppPort, 9601)
        XCTAssertEqual(try settings([], ["SERVER_PORT": "9601", "ECHO_APP_PORT": "9601"]).echoAppPort, 9601)
        // A flag under either name beats a variable under either name, as for every setting.
        XCTAssertEqual(try settings(["--echo-app-port", "7000"], ["SERVER_PORT": "9601"]).echoAppPort, 7000)
        XCTAssertEqual(try settings(["--server-port=7000"], ["ECHO_APP_PORT": "6001"]).echoAppPort, 7000)
        // USAGE_URL still names the whole URL.
        XCTAssertEqual(try settings([], ["SERVER_PORT": "9601", "USAGE_URL": "http://127.0.0.1:8000/u"]).usageURL.port, 8000)
    }

    func testServerPortAndEchoAppPortThatDisagreeAreABadSetting() {
        let found = errors([], ["SERVER_PORT": "9601", "ECHO_APP_PORT": "6001"])
        XCTAssertEqual(found.count, 1)
        XCTAssertEqual(found.first?.setting, "SERVER_PORT")
        XCTAssertEqual(found.first?.description,
                       "SERVER_PORT=\"9601\": conflicts with ECHO_APP_PORT=6001: both name the Usage API port, set one")
        XCTAssertEqual(errors(["--echo-app-port", "1", "--server-port", "2"]).map(\.setting), ["--server-port"])
        XCTAssertEqual(errors([], ["SERVER_PORT": "0"]).map(\.setting), ["SERVER_PORT"])
    }

    func testBooleans() throws {
        for (text, value) in [("true", true), ("1", true), ("YES", true), ("false", false), ("0", false), ("no", false)] {
            XCTAssertEqual(try settings([], ["TEST_MODE": text]).testMode, value, text)
        }
        XCTAssertEqual(errors([], ["TEST_MODE": "maybe"]).map(\.setting), ["TEST_MODE"])
    }

    func testEveryBadValueIsReportedWithItsName() {
        let found = errors(["--memory-percent", "abc", "--bogus"], [
            "ECHO_APP_PORT": "70000", "CHECKING_INTERVAL": "0", "KUBERNETES_LABEL": "-bad-", "POD_NAME": "Not_A_Pod",
            "ON_USAGE_FAILURE": "panic", "USAGE_URL": "ftp://x",
        ])
        XCTAssertEqual(Set(found.map(\.setting)), [
            "--memory-percent", "--bogus", "ECHO_APP_PORT", "CHECKING_INTERVAL", "KUBERNETES_LABEL", "POD_NAME",
            "ON_USAGE_FAILURE", "USAGE_URL",
        ])
        let percent = found.first { $0.setting == "--memory-percent" }
        XCTAssertEqual(percent?.description, "--memory-percent=\"abc\": expected a number greater than 0 and at most 1000")
        XCTAssertEqual(errors(["--pod-name"]).first?.accepted, "needs a value")
    }

    func testHysteresisSettings() throws {
        let defaults = try settings([])
        XCTAssertNil(defaults.acceptPercent, "unset: MEMORY_PERCENT")
        XCTAssertEqual(defaults.flipAfterSamples, 1)
        let fromEnv = try settings([], ["ACCEPT_PERCENT": "70", "FLIP_AFTER_SAMPLES": "3"])
        XCTAssertEqual(fromEnv.acceptPercent, 70)
        XCTAssertEqual(fromEnv.flipAfterSamples, 3)
        let fromFlags = try settings(["--accept-percent", "72.5", "--flip-after-samples=100"],
                                     ["ACCEPT_PERCENT": "70", "FLIP_AFTER_SAMPLES": "3"])
        XCTAssertEqual(fromFlags.acceptPercent, 72.5)
        XCTAssertEqual(fromFlags.flipAfterSamples, 100)
        XCTAssertEqual(try settings([], ["ACCEPT_PERCENT": "75"]).acceptPercent, 75, "equal to MEMORY_PERCENT: no band")
        XCTAssertEqual(try settings(["--memory-percent", "90"], ["ACCEPT_PERCENT": "80"]).acceptPercent, 80)
    }

    func testBadHysteresisValuesAreReportedWithTheirNames() {
        XCTAssertEqual(errors([], ["ACCEPT_PERCENT": "80"]).map(\.description), [
            "ACCEPT_PERCENT=\"80\": expected a number greater than 0 and at most MEMORY_PERCENT, which is 75",
        ])
        // Checked against MEMORY_PERCENT as given, by flag or variable, whatever the order on the command line.
        XCTAssertEqual(errors(["--accept-percent=70", "--memory-percent", "60.5"]).map(\.description), [
            "--accept-percent=\"70\": expected a number greater than 0 and at most MEMORY_PERCENT, which is 60.5",
        ])
        XCTAssertEqual(errors([], ["ACCEPT_PERCENT": "70", "MEMORY_PERCENT": "65"]).map(\.setting), ["ACCEPT_PERCENT"])
        for bad in ["0", "-1", "abc", "nan", "inf", "70%"] {
            XCTAssertEqual(errors([], ["ACCEPT_PERCENT": bad]).map(\.description), [
                "ACCEPT_PERCENT=\"\(bad)\": expected a number greater than 0 and at most MEMORY_PERCENT",
            ], bad)
        }
        for bad in ["0", "101", "2.5", "-3", "three", ""] {
            let found = errors(["--flip-after-samples=\(bad)"])
            XCTAssertEqual(found.map(\.description), [
                "--flip-after-samples=\"\(bad)\": expected a whole number from 1 to 100",
            ], bad)
        }
        XCTAssertEqual(errors([], ["FLIP_AFTER_SAMPLES": "0"]).map(\.setting), ["FLIP_AFTER_SAMPLES"])
        // Every bad value, not just the first.
        XCTAssertEqual(Set(errors(["--memory-percent", "x"], ["ACCEPT_PERCENT": "0", "FLIP_AFTER_SAMPLES": "1000"])
            .map(\.setting)), ["--memory-percent", "ACCEPT_PERCENT", "FLIP_AFTER_SAMPLES"])
    }

    func testLogLevelAndFormat() throws {
        let defaults = try settings([])
        XCTAssertEqual(defaults.logLevel, .info)
        XCTAssertEqual(defaults.logFormat, .logfmt)
        let fromEnv = try settings([], ["LOG_LEVEL": "warn", "LOG_FORMAT": "json"])
        XCTAssertEqual(fromEnv.logLevel, .warning)
        XCTAssertEqual(fromEnv.logFormat, .json)
        XCTAssertEqual(try settings(["--log-level=error"], ["LOG_LEVEL": "warn"]).logLevel, .error)
        XCTAssertEqual(try settings(["--log-format", "logfmt"], ["LOG_FORMAT": "json"]).logFormat, .logfmt)
        // -v is a shortcut for debug, whatever LOG_LEVEL says.
        XCTAssertEqual(try settings(["-v"], ["LOG_LEVEL": "error"]).logLevel, .debug)
        XCTAssertEqual(try settings([], ["VERBOSE": "true"]).logLevel, .debug)
        let found = errors(["--log-format", "text"], ["LOG_LEVEL": "WARNING"])
        XCTAssertEqual(found.map(\.description), [
            "LOG_LEVEL=\"WARNING\": expected debug, info, warn or error",
            "--log-format=\"text\": expected logfmt or json",
        ])
    }

    func testHelpAndVersion() {
        XCTAssertEqual(try parse(["--help"]).get(), .help)
        XCTAssertEqual(try parse(["network:watch", "--version"]).get(), .version)
    }

    func testLabelKeys() {
        XCTAssertTrue(isLabelKey("echo.soketi.app/accepts-new-connections"))
        XCTAssertTrue(isLabelKey("simple"))
        XCTAssertFalse(isLabelKey("a/b/c"))
        XCTAssertFalse(isLabelKey("Upper.Case/name"))
        XCTAssertFalse(isLabelKey("x/" + String(repeating: "a", count: 64)))
        XCTAssertFalse(isLabelKey("x/-dash"))
        XCTAssertFalse(isLabelKey(""))
    }
}

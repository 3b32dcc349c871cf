import HTTPLite

/// Everything the watcher was told, after flags, environment and defaults were combined.
struct Settings: Equatable {
    enum UsageFailurePolicy: String, Equatable { case keep, reject }

    var podNamespace: String?  // nil: the service account's namespace file, else "default"
    var podName = "some-pod"
    var echoAppPort = 6001
    var usageURL: HTTPURL
    var memoryPercent = 75.0
    var checkingInterval = 1.0
    var testMode = false
    var label = "echo.soketi.app/accepts-new-connections"
    var usageTimeout = 1.0
    var onUsageFailure = UsageFailurePolicy.keep
    var usageFailureThreshold = 3
    var podResyncInterval = 30.0
    var startupTimeout = 60.0
    var apiTimeout = 5.0
    var verbose = false
    /// `-v` lowers this to debug whatever `LOG_LEVEL` says.
    var logLevel = Log.Level.info
    var logFormat = Log.Format.logfmt

    /// What the command line asked for besides running.
    enum Request: Equatable {
        case run(Settings)
        case help
        case version
    }
}

/// One bad setting: which one, the value given, and what is accepted.
struct SettingError: Error, Equatable, CustomStringConvertible {
    let setting: String
    let value: String
    let accepted: String

    var description: String { "\(setting)=\"\(value.escapingControlCharacters())\": \(accepted)" }
}

/// Every bad setting found, each reported on its own line.
struct SettingErrors: Error, Equatable {
    let errors: [SettingError]
}

/// A setting as the user knows it: its flag(s), its environment name, its help line.
struct SettingSpec {
    let flags: [String]
    let env: String?
    let isSwitch: Bool
    let help: String
    let defaultText: String
}

let settingSpecs: [SettingSpec] = [
    SettingSpec(flags: ["--pod-namespace"], env: "POD_NAMESPACE", isSwitch: false,
                help: "namespace of the pod to label", defaultText: "service account namespace, else default"),
    SettingSpec(flags: ["--pod-name"], env: "POD_NAME", isSwitch: false,
                help: "name of the pod to label", defaultText: "some-pod"),
    SettingSpec(flags: ["--echo-app-port"], env: "ECHO_APP_PORT", isSwitch: false,
                help: "Echo Server port on 127.0.0.1", defaultText: "6001"),
    SettingSpec(flags: ["--server-port"], env: "SERVER_PORT", isSwitch: false,
                help: "the same as --echo-app-port (the later PHP versions' name)", defaultText: "6001"),
    SettingSpec(flags: ["--usage-url"], env: "USAGE_URL", isSwitch: false,
                help: "Usage API URL", defaultText: "http://127.0.0.1:<echo-app-port>/usage"),
    SettingSpec(flags: ["--memory-percent"], env: "MEMORY_PERCENT", isSwitch: false,
                help: "reject new connections at or above this memory percent", defaultText: "75"),
    SettingSpec(flags: ["--checking-interval", "--interval"], env: "CHECKING_INTERVAL", isSwitch: false,
                help: "seconds between checks (fractions allowed)", defaultText: "1"),
    SettingSpec(flags: ["--test"], env: "TEST_MODE", isSwitch: true,
                help: "one check, then exit", defaultText: "false"),
    SettingSpec(flags: ["--kubernetes-label"], env: "KUBERNETES_LABEL", isSwitch: false,
                help: "label key to set to yes/no", defaultText: "echo.soketi.app/accepts-new-connections"),
    SettingSpec(flags: ["--usage-timeout"], env: "USAGE_TIMEOUT", isSwitch: false,
                help: "seconds to wait for the Usage API", defaultText: "1"),
    SettingSpec(flags: ["--on-usage-failure"], env: "ON_USAGE_FAILURE", isSwitch: false,
                help: "keep the label, or reject after the failure threshold", defaultText: "keep"),
    SettingSpec(flags: ["--usage-failure-threshold"], env: "USAGE_FAILURE_THRESHOLD", isSwitch: false,
                help: "failed samples in a row before reject acts", defaultText: "3"),
    SettingSpec(flags: ["--pod-resync-interval"], env: "POD_RESYNC_INTERVAL", isSwitch: false,
                help: "seconds between re-reads of the pod", defaultText: "30"),
    SettingSpec(flags: ["--startup-timeout"], env: "STARTUP_TIMEOUT", isSwitch: false,
                help: "seconds to retry an unreachable API server at start", defaultText: "60"),
    SettingSpec(flags: ["--api-timeout"], env: "API_TIMEOUT", isSwitch: false,
                help: "seconds to wait for one API request", defaultText: "5"),
    SettingSpec(flags: ["-v", "--verbose"], env: "VERBOSE", isSwitch: true,
                help: "log every sample (the same as --log-level debug)", defaultText: "false"),
    SettingSpec(flags: ["--log-level"], env: "LOG_LEVEL", isSwitch: false,
                help: "debug, info, warn or error: the least severe lines written", defaultText: "info"),
    SettingSpec(flags: ["--log-format"], env: "LOG_FORMAT", isSwitch: false,
                help: "logfmt (TIME LEVEL message key=value) or json (one object per line)", defaultText: "logfmt"),
]

extension Settings {
    /// Combines flags, then environment, then defaults. Reports every bad value, not just the first.
    static func parse(arguments: [String], environment: [String: String]) -> Result<Request, SettingErrors> {
        var flagValues: [String: (value: String, flag: String)] = [:]  // by environment name
        var errors: [SettingError] = []
        var index = 0
        if arguments.first == "help" { return .success(.help) }  // as `kubectl help`, `git help`
        if arguments.first == "network:watch" { index = 1 }
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--help" || argument == "-h" { return .success(.help) }
            if argument == "--version" { return .success(.version) }
            let (name, inlineValue) = splitFlag(argument)
            guard let spec = settingSpecs.first(where: { $0.flags.contains(name) }), let env = spec.env else {
                errors.append(SettingError(setting: argument, value: "", accepted: "unknown option (see --help)"))
                continue
            }
            if spec.isSwitch {
                flagValues[env] = (inlineValue ?? "true", name)
            } else if let inlineValue {
                flagValues[env] = (inlineValue, name)
            } else if index < arguments.count {
                flagValues[env] = (arguments[index], name)
                index += 1
            } else {
                errors.append(SettingError(setting: name, value: "", accepted: "needs a value"))
            }
        }

        var reader = SettingReader(flags: flagValues, environment: environment)
        var settings = Settings(usageURL: try! HTTPURL("http://127.0.0.1:6001/usage"))
        settings.podNamespace = reader.text("POD_NAMESPACE", accepted: "a namespace name (lower-case DNS label)") {
            isDNSLabel($0)
        }
        settings.podName = reader.text("POD_NAME", accepted: "a pod name (lower-case DNS subdomain)") {
            isDNSSubdomain($0)
        } ?? settings.podName
        settings.echoAppPort = reader.integer(["ECHO_APP_PORT", "SERVER_PORT"], in: 1...65535) ?? settings.echoAppPort
        settings.memoryPercent = reader.number("MEMORY_PERCENT", above: 0, atMost: 1000) ?? settings.memoryPercent
        settings.checkingInterval = reader.number("CHECKING_INTERVAL", atLeast: 0.01, atMost: 3600) ?? settings.checkingInterval
        settings.testMode = reader.boolean("TEST_MODE") ?? settings.testMode
        settings.label = reader.text("KUBERNETES_LABEL", accepted: "a label key: [prefix/]name, name up to 63 of [A-Za-z0-9._-] starting and ending alphanumeric") {
            isLabelKey($0)
        } ?? settings.label
        settings.usageTimeout = reader.number("USAGE_TIMEOUT", atLeast: 0.01, atMost: 300) ?? settings.usageTimeout
        if let policy = reader.text("ON_USAGE_FAILURE", accepted: "keep or reject", valid: { UsageFailurePolicy(rawValue: $0) != nil }) {
            settings.onUsageFailure = UsageFailurePolicy(rawValue: policy)!
        }
        settings.usageFailureThreshold = reader.integer("USAGE_FAILURE_THRESHOLD", in: 1...1000) ?? settings.usageFailureThreshold
        settings.podResyncInterval = reader.number("POD_RESYNC_INTERVAL", atLeast: 0.1, atMost: 86400) ?? settings.podResyncInterval
        settings.startupTimeout = reader.number("STARTUP_TIMEOUT", atLeast: 0, atMost: 3600) ?? settings.startupTimeout
        settings.apiTimeout = reader.number("API_TIMEOUT", atLeast: 0.1, atMost: 300) ?? settings.apiTimeout
        settings.verbose = reader.boolean("VERBOSE") ?? settings.verbose
        if let level = reader.text("LOG_LEVEL", accepted: "debug, info, warn or error", valid: { Log.Level(setting: $0) != nil }) {
            settings.logLevel = Log.Level(setting: level)!
        }
        if settings.verbose { settings.logLevel = .debug }
        if let format = reader.text("LOG_FORMAT", accepted: "logfmt or json", valid: { Log.Format(rawValue: $0) != nil }) {
            settings.logFormat = Log.Format(rawValue: format)!
        }

        let defaultUsage = "http://127.0.0.1:\(settings.echoAppPort)/usage"
        if let url = reader.text("USAGE_URL", accepted: "an http:// or https:// URL", valid: { (try? HTTPURL($0)) != nil }) {
            settings.usageURL = try! HTTPURL(url)
        } else {
            settings.usageURL = try! HTTPURL(defaultUsage)
        }

        errors += reader.errors
        return errors.isEmpty ? .success(.run(settings)) : .failure(SettingErrors(errors: errors))
    }

    private static func splitFlag(_ argument: String) -> (String, String?) {
        guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }
}

/// Reads one setting at a time, flag before environment, collecting errors.
struct SettingReader {
    /// Values given as flags, with the flag as the user spelled it, by environment name.
    let flags: [String: (value: String, flag: String)]
    let environment: [String: String]
    private(set) var errors: [SettingError] = []

    init(flags: [String: (value: String, flag: String)], environment: [String: String]) {
        self.flags = flags
        self.environment = environment
    }

    /// The raw value and the name to report it under (the flag or the variable).
    private func raw(_ env: String) -> (value: String, source: String)? {
        if let given = flags[env] { return (given.value, given.flag) }
        if let value = environment[env], !value.isEmpty { return (value, env) }
        return nil
    }

    mutating func text(_ env: String, accepted: String, valid: (String) -> Bool) -> String? {
        guard let (value, source) = raw(env) else { return nil }
        guard valid(value) else {
            errors.append(SettingError(setting: source, value: value, accepted: "expected \(accepted)"))
            return nil
        }
        return value
    }

    mutating func number(_ env: String, above lower: Double? = nil, atLeast minimum: Double? = nil, atMost maximum: Double) -> Double? {
        let range = lower.map { "greater than \(format($0))" } ?? "at least \(format(minimum ?? 0))"
        guard let text = text(env, accepted: "a number \(range) and at most \(format(maximum))", valid: { text in
            guard let value = Double(text), value.isFinite else { return false }
            if let lower, value <= lower { return false }
            if let minimum, value < minimum { return false }
            return value <= maximum
        }) else { return nil }
        return Double(text)
    }

    mutating func integer(_ env: String, in range: ClosedRange<Int>) -> Int? {
        text(env, accepted: "a whole number from \(range.lowerBound) to \(range.upperBound)") {
            Int($0).map(range.contains) ?? false
        }.flatMap { Int($0) }
    }

    /// One setting under several names (the PHP tool's versions named the port differently).
    /// As for any setting a flag beats a variable; two names given at the same level must agree.
    mutating func integer(_ names: [String], in range: ClosedRange<Int>) -> Int? {
        let given = names.filter { flags[$0] != nil }
        let level = given.isEmpty ? names.filter { raw($0) != nil } : given
        var chosen: (value: Int, source: String, text: String)?
        for name in level {
            guard let value = integer(name, in: range), let (text, source) = raw(name) else { continue }
            if let first = chosen, first.value != value {
                errors.append(SettingError(setting: source, value: text,
                                           accepted: "conflicts with \(first.source)=\(first.text): both name the Usage API port, set one"))
                return nil
            }
            chosen = chosen ?? (value, source, text)
        }
        return chosen?.value
    }

    mutating func boolean(_ env: String) -> Bool? {
        text(env, accepted: "true, false, 1, 0, yes or no") { parseBoolean($0) != nil }.flatMap(parseBoolean)
    }
}

func parseBoolean(_ text: String) -> Bool? {
    switch text.lowercased() {
    case "true", "1", "yes": return true
    case "false", "0", "no": return false
    default: return nil
    }
}

private func format(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(value)
}

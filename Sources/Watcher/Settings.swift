import HTTPLite

/// Everything the watcher was told, after flags, environment and defaults were combined.
/// Every value is set by a row of `Settings.table`, which holds its default: the initial
/// values below are never seen, and `parse` is the only way to a `Settings`.
struct Settings: Equatable {
    enum UsageFailurePolicy: String, Equatable { case keep, reject }

    var podNamespace: String?  // nil: the service account's namespace file, else "default"
    var podName = ""
    var echoAppPort = 0
    /// `USAGE_URL`; nil for the Usage API on `echoAppPort`.
    var givenUsageURL: HTTPURL?
    var memoryPercent = 0.0
    /// `ACCEPT_PERCENT`; nil for `memoryPercent` (no band).
    var acceptPercent: Double?
    var flipAfterSamples = 0
    var checkingInterval = 0.0
    var testMode = false
    var label = ""
    var usageTimeout = 0.0
    var onUsageFailure = UsageFailurePolicy.keep
    var usageFailureThreshold = 0
    var podResyncInterval = 0.0
    var startupTimeout = 0.0
    var apiTimeout = 0.0
    var verbose = false
    /// `-v` lowers this to debug whatever `LOG_LEVEL` says.
    var logLevel = Log.Level.info
    var logFormat = Log.Format.logfmt
    /// `HTTP_PORT`: where /healthz, /readyz and /metrics are served; nil for no server.
    var httpPort: Int?
    /// `HTTP_ADDRESS`: a numeric address to listen on; nil for every address, IPv6 and IPv4.
    var httpAddress: String?

    private init() {}

    var usageURL: HTTPURL { givenUsageURL ?? (try! HTTPURL("http://127.0.0.1:\(echoAppPort)/usage")) }

    /// What the command line asked for besides running.
    enum Request: Equatable {
        case run(Settings)
        case help
        case version
    }
}

extension Settings {
    /// Every setting, in the order `--help` lists them. (Made on each use: it is read once,
    /// at start, and a stored table of closures would have to be `Sendable`.)
    static var table: [Setting] { [
        Setting("POD_NAMESPACE", "--pod-namespace", format: .text("a namespace name (lower-case DNS label)", valid: isDNSLabel),
                unset: "service account namespace, else default", help: "namespace of the pod to label") {
            $0.podNamespace = $1
        },
        Setting("POD_NAME", "--pod-name", format: .text("a pod name (lower-case DNS subdomain)", valid: isDNSSubdomain),
                default: "some-pod", help: "name of the pod to label") { $0.podName = $1 },
        Setting("ECHO_APP_PORT", "--echo-app-port", format: .integer(1...65535), default: 6001,
                help: "Echo Server port on 127.0.0.1") { $0.echoAppPort = $1 }
            .alias("SERVER_PORT", "--server-port", help: "the same as --echo-app-port (the later PHP versions' name)",
                   subject: "the Usage API port"),
        Setting("USAGE_URL", "--usage-url", format: .url, unset: "http://127.0.0.1:<echo-app-port>/usage",
                help: "Usage API URL") { $0.givenUsageURL = $1 },
        Setting("MEMORY_PERCENT", "--memory-percent", format: .number(above: 0, atMost: 1000), default: 75,
                help: "reject new connections at or above this memory percent") { $0.memoryPercent = $1 },
        // Checked against MEMORY_PERCENT, which the table lists first so that it is read by then.
        Setting("ACCEPT_PERCENT", "--accept-percent",
                format: .number(above: 0, atMost: 1000).described(as: acceptPercentRange), unset: "MEMORY_PERCENT",
                help: "once rejecting, accept again only below this memory percent") { $0.acceptPercent = $1 }
            .checked { settings in
                guard let accept = settings.acceptPercent, accept > settings.memoryPercent else { return nil }
                return "\(acceptPercentRange), which is \(formatPercent(settings.memoryPercent))"
            },
        Setting("FLIP_AFTER_SAMPLES", "--flip-after-samples", format: .integer(1...100), default: 1,
                help: "samples in a row on the other side of a threshold before the label flips") {
            $0.flipAfterSamples = $1
        },
        Setting("CHECKING_INTERVAL", "--checking-interval", "--interval", format: .number(atLeast: 0.01, atMost: 3600),
                default: 1, help: "seconds between checks (fractions allowed)") { $0.checkingInterval = $1 },
        Setting("TEST_MODE", "--test", format: .boolean, default: false, help: "one check, then exit") { $0.testMode = $1 },
        Setting("KUBERNETES_LABEL", "--kubernetes-label",
                format: .text("a label key: [prefix/]name, name up to 63 of [A-Za-z0-9._-] starting and ending alphanumeric",
                              valid: isLabelKey),
                default: "echo.soketi.app/accepts-new-connections", help: "label key to set to yes/no") { $0.label = $1 },
        Setting("USAGE_TIMEOUT", "--usage-timeout", format: .number(atLeast: 0.01, atMost: 300), default: 1,
                help: "seconds to wait for the Usage API") { $0.usageTimeout = $1 },
        Setting("ON_USAGE_FAILURE", "--on-usage-failure",
                format: ValueFormat(accepted: "keep or reject", read: { UsageFailurePolicy(rawValue: $0) }, show: { $0.rawValue }),
                default: .keep, help: "keep the label, or reject after the failure threshold") { $0.onUsageFailure = $1 },
        Setting("USAGE_FAILURE_THRESHOLD", "--usage-failure-threshold", format: .integer(1...1000), default: 3,
                help: "failed samples in a row before reject acts") { $0.usageFailureThreshold = $1 },
        Setting("POD_RESYNC_INTERVAL", "--pod-resync-interval", format: .number(atLeast: 0.1, atMost: 86400), default: 30,
                help: "seconds between re-reads of the pod") { $0.podResyncInterval = $1 },
        Setting("STARTUP_TIMEOUT", "--startup-timeout", format: .number(atLeast: 0, atMost: 3600), default: 60,
                help: "seconds to retry an unreachable API server at start") { $0.startupTimeout = $1 },
        Setting("API_TIMEOUT", "--api-timeout", format: .number(atLeast: 0.1, atMost: 300), default: 5,
                help: "seconds to wait for one API request") { $0.apiTimeout = $1 },
        Setting("VERBOSE", "-v", "--verbose", format: .boolean, default: false,
                help: "log every sample (the same as --log-level debug)") { $0.verbose = $1 },
        Setting("LOG_LEVEL", "--log-level",
                format: ValueFormat(accepted: "debug, info, warn or error", read: { Log.Level(setting: $0) }, show: { $0.jsonName }),
                default: .info, help: "debug, info, warn or error: the least severe lines written") { $0.logLevel = $1 },
        Setting("LOG_FORMAT", "--log-format",
                format: ValueFormat(accepted: "logfmt or json", read: { Log.Format(rawValue: $0) }, show: { $0.rawValue }),
                default: .logfmt, help: "logfmt (TIME LEVEL message key=value) or json (one object per line)") {
            $0.logFormat = $1
        },
        Setting("HTTP_PORT", "--http-port", format: .integer(1...65535), unset: "off",
                help: "serve /healthz, /readyz and /metrics on this port") { $0.httpPort = $1 },
        Setting("HTTP_ADDRESS", "--http-address", format: .text("a numeric IPv4 or IPv6 address", valid: isNumericAddress),
                unset: "every address, IPv4 and IPv6", help: "address for the HTTP_PORT server") { $0.httpAddress = $1 },
    ] }

    private static let acceptPercentRange = "a number greater than 0 and at most MEMORY_PERCENT"

    /// Combines flags, then environment, then defaults. Reports every bad value, not just the first.
    static func parse(arguments: [String], environment: [String: String]) -> Result<Request, SettingErrors> {
        var flagValues: [String: (value: String, flag: String)] = [:]  // by environment name
        var errors: [SettingError] = []
        let table = Self.table
        var index = 0
        if arguments.first == "help" { return .success(.help) }  // as `kubectl help`, `git help`
        if arguments.first == "network:watch" { index = 1 }
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--help" || argument == "-h" { return .success(.help) }
            if argument == "--version" { return .success(.version) }
            let (flag, inlineValue) = splitFlag(argument)
            guard let (name, isSwitch) = named(flag, in: table) else {
                errors.append(SettingError(setting: argument, value: "", accepted: "unknown option (see --help)"))
                continue
            }
            if isSwitch {
                flagValues[name.env] = (inlineValue ?? "true", flag)
            } else if let inlineValue {
                flagValues[name.env] = (inlineValue, flag)
            } else if index < arguments.count {
                flagValues[name.env] = (arguments[index], flag)
                index += 1
            } else {
                errors.append(SettingError(setting: flag, value: "", accepted: "needs a value"))
            }
        }

        var settings = Settings()
        for setting in table {
            setting.storeDefault(&settings)
            apply(setting, flags: flagValues, environment: environment, into: &settings, errors: &errors)
        }
        if settings.verbose { settings.logLevel = .debug }
        return errors.isEmpty ? .success(.run(settings)) : .failure(SettingErrors(errors: errors))
    }

    /// Stores the value given for `setting`, if any: a flag under any of its names beats a
    /// variable under any of its names, an empty variable is unset, two names given at the
    /// same level must agree.
    private static func apply(_ setting: Setting, flags: [String: (value: String, flag: String)],
                              environment: [String: String], into settings: inout Settings, errors: inout [SettingError]) {
        var given = setting.names.compactMap { name in flags[name.env].map { (text: $0.value, source: $0.flag) } }
        if given.isEmpty {
            given = setting.names.compactMap { name in
                environment[name.env].flatMap { $0.isEmpty ? nil : (text: $0, source: name.env) }
            }
        }
        var chosen: (text: String, source: String, settings: Settings)?
        for (text, source) in given {
            var candidate = settings
            guard setting.store(text, &candidate) else {
                errors.append(SettingError(setting: source, value: text, accepted: "expected \(setting.accepted)"))
                continue
            }
            if let accepted = setting.check(candidate) {
                errors.append(SettingError(setting: source, value: text, accepted: "expected \(accepted)"))
                continue
            }
            if let first = chosen, first.settings != candidate {
                errors.append(SettingError(setting: source, value: text, accepted:
                    "conflicts with \(first.source)=\(first.text): both name \(setting.subject), set one"))
                return
            }
            chosen = chosen ?? (text, source, candidate)
        }
        if let chosen { settings = chosen.settings }
    }

    /// The setting's name a flag belongs to, and whether that setting is a switch.
    private static func named(_ flag: String, in table: [Setting]) -> (Setting.Name, Bool)? {
        for setting in table {
            for name in setting.names where name.flags.contains(flag) { return (name, setting.isSwitch) }
        }
        return nil
    }

    private static func splitFlag(_ argument: String) -> (String, String?) {
        guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }
}

/// The whole environment by name, from "NAME=value" entries (as `processEnvironment()` gives
/// them). Where a name appears twice the first counts, as for `getenv`.
func environmentVariables(_ entries: [String]) -> [String: String] {
    var variables: [String: String] = [:]
    for entry in entries {
        guard let equals = entry.firstIndex(of: "=") else { continue }
        let name = String(entry[..<equals])
        if variables[name] == nil { variables[name] = String(entry[entry.index(after: equals)...]) }
    }
    return variables
}

import HTTPLite
import JSON

/// One line per event on standard error, as `logfmt` (`TIMESTAMP LEVEL message key=value ...`)
/// or `json` (one object per line: `time`, `level`, `msg`, then the fields as strings).
struct Log {
    /// How severe a line is; lines below the configured level are not written.
    enum Level: Int, Comparable {
        case debug, info, warning, error

        /// The spelling of `LOG_LEVEL`: `debug`, `info`, `warn`, `error`.
        init?(setting: String) {
            switch setting {
            case "debug": self = .debug
            case "info": self = .info
            case "warn": self = .warning
            case "error": self = .error
            default: return nil
            }
        }

        /// Lower case in JSON, as `LOG_LEVEL` spells it.
        var jsonName: String {
            switch self {
            case .debug: return "debug"
            case .info: return "info"
            case .warning: return "warn"
            case .error: return "error"
            }
        }

        var logfmtName: String {
            switch self {
            case .debug: return "DEBUG"
            case .info: return "INFO"
            case .warning: return "WARN"
            case .error: return "ERROR"
            }
        }

        static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    enum Format: String { case logfmt, json }

    var level = Level.info
    var format = Format.logfmt

    func debug(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        self.write(LogLine(.debug, message, fields))
    }

    func info(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        self.write(LogLine(.info, message, fields))
    }

    /// `hint`, when given, is the last field: what the user can do about it.
    func warning(_ message: String, _ fields: KeyValuePairs<String, String> = [:], hint: String? = nil) {
        self.write(LogLine(.warning, message, fields, hint: hint))
    }

    func error(_ message: String, _ fields: KeyValuePairs<String, String> = [:], hint: String? = nil) {
        self.write(LogLine(.error, message, fields, hint: hint))
    }

    func write(_ line: LogLine) {
        guard line.level >= self.level else { return }
        System.writeToStandardError(Log.line(line.level, line.message, line.fields, at: WallClock.now(), format: format))
    }

    /// One whole line, newline included.
    static func line(_ level: Level, _ message: String, _ fields: [(key: String, value: String)],
                     at time: WallClock, format: Format) -> String {
        switch format {
        case .logfmt:
            var line = "\(time.rfc3339Milliseconds) \(level.logfmtName) \(message)"
            for (key, value) in fields {
                line += " \(key)=\(Log.quoted(value))"
            }
            return line + "\n"
        case .json:
            var object = JSONObject([(key: "time", value: .string(time.rfc3339Milliseconds)),
                                     (key: "level", value: .string(level.jsonName)),
                                     (key: "msg", value: .string(message))])
            for (key, value) in fields {
                object.append(key: key, value: .string(value))
            }
            return JSON.object(object).serialized() + "\n"
        }
    }

    /// Values with spaces, quotes or `=` are quoted so that a line splits unambiguously;
    /// control characters are escaped, so that a value (an error text, a pod name) can
    /// neither break the line nor send escape sequences to a terminal.
    static func quoted(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy {
            $0.value > 32 && $0 != "\"" && $0 != "=" && !isControl($0)
        }
        if plain { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where isControl(scalar):
                // As JSON writes them: \u and four upper-case hex digits (all controls are below 0x100).
                out += (scalar.value < 16 ? "\\u000" : "\\u00") + String(scalar.value, radix: 16, uppercase: true)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// C0 controls, DEL and C1 controls.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 32 || (scalar.value >= 127 && scalar.value < 160)
    }
}

/// A line to log: its level, message and fields in order, a hint last.
struct LogLine {
    let level: Log.Level
    let message: String
    let fields: [(key: String, value: String)]

    init(_ level: Log.Level, _ message: String, _ fields: KeyValuePairs<String, String> = [:], hint: String? = nil) {
        self.level = level
        self.message = message
        var pairs = fields.map { (key: $0.key, value: $0.value) }
        if let hint { pairs.append((key: "hint", value: hint)) }
        self.fields = pairs
    }
}

/// Wall-clock time, for timestamps in logs and Events.
struct WallClock: Equatable {
    let seconds: Int
    let nanoseconds: Int

    static func now() -> WallClock {
        let now = System.wallClock()
        return WallClock(seconds: now.seconds, nanoseconds: now.nanoseconds)
    }

    /// Seconds since the epoch, with the fraction.
    var secondsSinceEpoch: Double { Double(seconds) + Double(nanoseconds) / 1e9 }

    /// RFC 3339 in UTC with second precision, as Kubernetes writes `firstTimestamp`.
    var rfc3339: String {
        "\(secondsText)Z"
    }

    /// RFC 3339 in UTC with milliseconds (`2026-11-25T12:00:00.123Z`), for log lines.
    var rfc3339Milliseconds: String {
        let milliseconds = nanoseconds / 1_000_000
        let digits = milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        return "\(secondsText).\(digits)Z"
    }

    private var secondsText: String {
        let time = System.utcTime(seconds)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(time.year)-\(two(time.month))-\(two(time.day))T\(two(time.hour)):\(two(time.minute)):\(two(time.second))"
    }

    /// Nanoseconds since the epoch in hex, the usual suffix of an Event's name.
    var hexNanoseconds: String {
        String(UInt64(seconds) * 1_000_000_000 + UInt64(nanoseconds), radix: 16)
    }
}

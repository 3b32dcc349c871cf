import Glibc

/// One line per event on standard error: `TIMESTAMP LEVEL message key=value ...`.
struct Log {
    enum Level: String { case debug = "DEBUG", info = "INFO", warning = "WARN", error = "ERROR" }

    var verbose = false

    func debug(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        if verbose { write(.debug, message, fields) }
    }

    func info(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        write(.info, message, fields)
    }

    func warning(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        write(.warning, message, fields)
    }

    func error(_ message: String, _ fields: KeyValuePairs<String, String> = [:]) {
        write(.error, message, fields)
    }

    private func write(_ level: Level, _ message: String, _ fields: KeyValuePairs<String, String>) {
        var line = "\(WallClock.now().rfc3339) \(level.rawValue) \(message)"
        for (key, value) in fields {
            line += " \(key)=\(Log.quoted(value))"
        }
        line += "\n"
        var bytes = Array(line.utf8)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(2, raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 {
                    if written < 0 && errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    /// Values with spaces, quotes or `=` are quoted so that a line splits unambiguously.
    static func quoted(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { $0.value > 32 && $0 != "\"" && $0 != "=" && $0.value != 127 }
        if plain { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Wall-clock time, for timestamps in logs and Events.
struct WallClock {
    let seconds: Int
    let nanoseconds: Int

    static func now() -> WallClock {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return WallClock(seconds: time.tv_sec, nanoseconds: time.tv_nsec)
    }

    /// RFC 3339 in UTC with second precision, as Kubernetes writes `firstTimestamp`.
    var rfc3339: String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    /// Nanoseconds since the epoch in hex, the usual suffix of an Event's name.
    var hexNanoseconds: String {
        String(UInt64(seconds) * 1_000_000_000 + UInt64(nanoseconds), radix: 16)
    }
}

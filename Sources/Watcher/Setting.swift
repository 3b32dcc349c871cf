import HTTPLite

/// One setting as the user knows it and as it is read: its names, what it accepts, its
/// default and its help. `Settings.table` holds one per setting; parsing, `--help` and the
/// defaults all come from it.
struct Setting {
    /// An environment variable and the flags that mean the same.
    struct Name {
        let env: String
        let flags: [String]
        /// The help line of a second name for the same setting.
        let help: String?
    }

    /// The main name first; more when the PHP tool's versions named the setting differently.
    private(set) var names: [Name]
    /// A flag without a value means true (`--test`, `-v`).
    let isSwitch: Bool
    let help: String
    /// The default as `--help` shows it.
    let defaultText: String
    /// Whether `defaultText` is a value the setting accepts, rather than a description.
    let defaultIsValue: Bool
    /// What is accepted, for the line about a bad value.
    let accepted: String
    /// What two names given different values both name, for the line about the conflict.
    private(set) var subject = "the same setting"
    /// What is accepted, when the stored value breaks a rule that involves settings
    /// listed before it in the table; nil when it keeps them.
    private(set) var check: (Settings) -> String? = { _ in nil }
    /// Stores the value `text` means; false when `text` is not accepted.
    let store: (String, inout Settings) -> Bool
    let storeDefault: (inout Settings) -> Void

    /// A setting whose default is a value of its own.
    init<Value>(_ env: String, _ flags: String..., format: ValueFormat<Value>, default value: Value, help: String,
                store: @escaping (inout Settings, Value) -> Void) {
        self.init(env, flags, format: format, defaultText: format.show(value), defaultIsValue: true, help: help,
                  store: store, storeDefault: { store(&$0, value) })
    }

    /// A setting that is unset by default (`nil`), which `unset` describes.
    init<Value>(_ env: String, _ flags: String..., format: ValueFormat<Value>, unset: String, help: String,
                store: @escaping (inout Settings, Value?) -> Void) {
        self.init(env, flags, format: format, defaultText: unset, defaultIsValue: false, help: help,
                  store: { store(&$0, $1) }, storeDefault: { store(&$0, nil) })
    }

    private init<Value>(_ env: String, _ flags: [String], format: ValueFormat<Value>, defaultText: String,
                        defaultIsValue: Bool, help: String, store: @escaping (inout Settings, Value) -> Void,
                        storeDefault: @escaping (inout Settings) -> Void) {
        names = [Name(env: env, flags: flags, help: nil)]
        isSwitch = format.isSwitch
        self.help = help
        self.defaultText = defaultText
        self.defaultIsValue = defaultIsValue
        accepted = format.accepted
        self.store = { text, settings in
            guard let value = format.read(text) else { return false }
            store(&settings, value)
            return true
        }
        self.storeDefault = storeDefault
    }

    /// The same setting under another name. As for any setting a flag beats a variable;
    /// two names given at the same level must agree, as both name `subject`.
    func alias(_ env: String, _ flags: String..., help: String, subject: String) -> Setting {
        var setting = self
        setting.names.append(Name(env: env, flags: flags, help: help))
        setting.subject = subject
        return setting
    }

    /// The same setting, whose value must also keep `rule` (which returns what is
    /// accepted when it does not) against the settings listed before it in the table.
    func checked(_ rule: @escaping (Settings) -> String?) -> Setting {
        var setting = self
        setting.check = rule
        return setting
    }
}

/// How values of one type are read from text and shown in `--help`.
struct ValueFormat<Value> {
    /// What is accepted, as in "expected a whole number from 1 to 65535".
    let accepted: String
    let read: (String) -> Value?
    let show: (Value) -> String
    var isSwitch = false
}

extension ValueFormat {
    /// The same values, with what is accepted worded as `accepted` (for a setting whose
    /// `Setting.checked` rule narrows them further).
    func described(as accepted: String) -> ValueFormat {
        ValueFormat(accepted: accepted, read: read, show: show, isSwitch: isSwitch)
    }
}

extension ValueFormat where Value == String {
    static func text(_ accepted: String, valid: @escaping (String) -> Bool) -> ValueFormat {
        ValueFormat(accepted: accepted, read: { valid($0) ? $0 : nil }, show: { $0 })
    }
}

extension ValueFormat where Value == Double {
    /// A finite number, above `lower` (exclusive) or at least `minimum`, and at most `maximum`.
    static func number(above lower: Double? = nil, atLeast minimum: Double? = nil, atMost maximum: Double) -> ValueFormat {
        let range = lower.map { "greater than \(formatBound($0))" } ?? "at least \(formatBound(minimum ?? 0))"
        return ValueFormat(accepted: "a number \(range) and at most \(formatBound(maximum))", read: { text in
            guard let value = Double(text), value.isFinite else { return nil }
            if let lower, value <= lower { return nil }
            if let minimum, value < minimum { return nil }
            return value <= maximum ? value : nil
        }, show: formatBound)
    }
}

extension ValueFormat where Value == Int {
    static func integer(_ range: ClosedRange<Int>) -> ValueFormat {
        ValueFormat(accepted: "a whole number from \(range.lowerBound) to \(range.upperBound)",
                    read: { Int($0).flatMap { range.contains($0) ? $0 : nil } }, show: { String($0) })
    }
}

extension ValueFormat where Value == Bool {
    static var boolean: ValueFormat {
        ValueFormat(accepted: "true, false, 1, 0, yes or no", read: parseBoolean, show: { $0 ? "true" : "false" },
                    isSwitch: true)
    }
}

extension ValueFormat where Value == HTTPURL {
    static var url: ValueFormat {
        ValueFormat(accepted: "an http:// or https:// URL", read: { try? HTTPURL($0) }, show: { $0.description })
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

func parseBoolean(_ text: String) -> Bool? {
    switch text.lowercased() {
    case "true", "1", "yes": return true
    case "false", "0", "no": return false
    default: return nil
    }
}

/// 75 rather than 75.0, 0.01 as it is.
private func formatBound(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(value)
}

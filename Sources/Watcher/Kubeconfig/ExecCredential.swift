import HTTPLite
import JSON

/// What an exec plugin printed: a token, a client certificate, or both, and until when to use them.
struct ExecCredential: Equatable {
    let token: String?
    /// PEM text (ExecCredential carries PEM, not base64).
    let certificate: [UInt8]?
    let key: [UInt8]?
    /// Seconds since the epoch from which it must not be used; nil means until a 401.
    let expiry: Int?

    /// Whether to run the plugin again before the next request (client-go: at the expiry, no margin).
    func hasExpired(now: Int) -> Bool {
        expiry.map { now >= $0 } ?? false
    }

    /// Reads the ExecCredential JSON; throws naming what is missing or wrong.
    static func parse(_ bytes: [UInt8], apiVersion: String) throws(KubeconfigError) -> ExecCredential {
        guard let root = try? JSON.parse(bytes), root.objectValue != nil else {
            throw KubeconfigError(message: "did not print an ExecCredential JSON object")
        }
        guard root["kind"]?.stringValue == "ExecCredential" else {
            throw KubeconfigError(message: "printed kind \"\(root["kind"]?.stringValue ?? "")\", not ExecCredential")
        }
        guard root["apiVersion"]?.stringValue == apiVersion else {
            throw KubeconfigError(message: "printed apiVersion \"\(root["apiVersion"]?.stringValue ?? "")\", but the kubeconfig asks for \(apiVersion)")
        }
        guard let status = root["status"]?.objectValue else {
            throw KubeconfigError(message: "the ExecCredential has no status")
        }
        let token = status["token"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        let certificate = status["clientCertificateData"]?.stringValue.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        let key = status["clientKeyData"]?.stringValue.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        guard (certificate == nil) == (key == nil) else {
            throw KubeconfigError(message: "status.clientCertificateData and status.clientKeyData go together")
        }
        guard token != nil || certificate != nil else {
            throw KubeconfigError(message: "the ExecCredential has neither status.token nor a client certificate")
        }
        var expiry: Int?
        switch status["expirationTimestamp"] {
        case .none, .some(.null):
            break
        case .some(.string(let text)):
            guard let seconds = parseRFC3339(text) else {
                throw KubeconfigError(message: "status.expirationTimestamp \"\(text)\" is not an RFC 3339 time")
            }
            expiry = seconds
        case .some:
            throw KubeconfigError(message: "status.expirationTimestamp is not a string")
        }
        return ExecCredential(token: token, certificate: certificate, key: key, expiry: expiry)
    }
}

/// Seconds since the epoch of an RFC 3339 time such as `2026-11-25T12:00:00Z`
/// or `2026-11-25T13:00:00.5+01:00` (fractions dropped); nil when it is not one.
func parseRFC3339(_ text: String) -> Int? {
    let bytes = Array(text.utf8)
    func number(_ start: Int, _ count: Int) -> Int? {
        guard start + count <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[start..<(start + count)] {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }
    func byte(_ index: Int, in allowed: String) -> Bool {
        index < bytes.count && allowed.utf8.contains(bytes[index])
    }
    guard let year = number(0, 4), byte(4, in: "-"), let month = number(5, 2), byte(7, in: "-"),
          let day = number(8, 2), byte(10, in: "Tt "), let hour = number(11, 2), byte(13, in: ":"),
          let minute = number(14, 2), byte(16, in: ":"), let second = number(17, 2),
          (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60
    else { return nil }
    var index = 19
    if byte(index, in: ".") {
        index += 1
        let digits = index
        while byte(index, in: "0123456789") { index += 1 }
        guard index > digits else { return nil }
    }
    var offset = 0
    if byte(index, in: "Zz") {
        guard index + 1 == bytes.count else { return nil }
    } else if byte(index, in: "+-") {
        guard index + 6 == bytes.count, let hours = number(index + 1, 2), byte(index + 3, in: ":"),
              let minutes = number(index + 4, 2), hours < 24, minutes < 60 else { return nil }
        offset = (hours * 3600 + minutes * 60) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
    } else {
        return nil
    }
    let seconds = System.secondsSinceEpoch((year, month, day, hour, minute, second))
    // timegm quietly rolls 31 April into 1 May; a date that moved did not exist.
    guard System.utcTime(seconds).day == day || second == 60 else { return nil }
    return seconds - offset
}

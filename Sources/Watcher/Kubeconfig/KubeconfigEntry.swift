import JSON

/// A named cluster, user or context and the file it came from: its relative
/// paths are relative to that file's folder, as kubectl resolves them.
struct KubeconfigEntry: Equatable {
    let kind: String
    let name: String
    let fields: JSONObject
    let file: String

    /// "user \"dev\" in /home/me/.kube/config", for messages.
    var label: String { "\(kind) \"\(name)\" in \(file)" }
}

extension KubeconfigEntry {
    /// The string field `name`; nil when absent, null or empty.
    func string(_ name: String) throws(KubeconfigError) -> String? {
        switch fields[name] {
        case .none, .some(.null): return nil
        case .some(.string(let value)): return value.isEmpty ? nil : value
        case .some: throw KubeconfigError(message: "\(label): \(name) is not a string")
        }
    }

    /// The boolean field `name`; nil when absent or null.
    func bool(_ name: String) throws(KubeconfigError) -> Bool? {
        switch fields[name] {
        case .none, .some(.null): return nil
        case .some(.bool(let value)): return value
        case .some: throw KubeconfigError(message: "\(label): \(name) is not true or false")
        }
    }
}

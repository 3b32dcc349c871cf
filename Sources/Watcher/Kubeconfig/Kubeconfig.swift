import JSON

/// A problem with a kubeconfig: one line that names the file and the entry.
struct KubeconfigError: Error, Equatable, CustomStringConvertible {
    let message: String

    var description: String { message }
}

/// The clusters, users and contexts of one or more kubeconfig files, merged by kubectl's rules.
struct Kubeconfig: Equatable {
    var clusters: [String: KubeconfigEntry] = [:]
    var users: [String: KubeconfigEntry] = [:]
    var contexts: [String: KubeconfigEntry] = [:]
    var currentContext: String?
    /// The files read, in order.
    var files: [String] = []

    /// Reads one file: JSON when its first non-blank byte is `{`, otherwise YAML.
    static func parse(_ bytes: [UInt8], file: String) throws(KubeconfigError) -> Kubeconfig {
        let root: JSON
        let first = bytes.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        if first == UInt8(ascii: "{") {
            do throws(JSONError) { root = try JSON.parse(bytes) } catch { throw KubeconfigError(message: "\(file): \(error)") }
        } else {
            do throws(YAMLError) { root = try YAML.parse(bytes) } catch { throw KubeconfigError(message: "\(file): \(error)") }
        }
        var config = Kubeconfig(files: [file])
        guard !root.isNull else { return config }
        guard let object = root.objectValue else {
            throw KubeconfigError(message: "\(file): the top level is not a mapping")
        }
        config.clusters = try entries(object, list: "clusters", kind: "cluster", file: file)
        config.users = try entries(object, list: "users", kind: "user", file: file)
        config.contexts = try entries(object, list: "contexts", kind: "context", file: file)
        switch object["current-context"] {
        case .none, .some(.null): break
        case .some(.string(let name)): config.currentContext = name.isEmpty ? nil : name
        case .some: throw KubeconfigError(message: "\(file): current-context is not a string")
        }
        return config
    }

    /// `clusters: [{name: N, cluster: {...}}, ...]` as a map; a name twice in one file is an error, as in kubectl.
    private static func entries(_ root: JSONObject, list: String, kind: String,
                                file: String) throws(KubeconfigError) -> [String: KubeconfigEntry] {
        var found: [String: KubeconfigEntry] = [:]
        guard let value = root[list], !value.isNull else { return found }
        guard let items = value.arrayValue else { throw KubeconfigError(message: "\(file): \(list) is not a list") }
        for (position, item) in items.enumerated() {
            guard let name = item["name"]?.stringValue, !name.isEmpty else {
                throw KubeconfigError(message: "\(file): \(list)[\(position)] has no name")
            }
            let fields: JSONObject
            switch item[kind] {
            case .none, .some(.null): fields = JSONObject()
            case .some(.object(let object)): fields = object
            case .some: throw KubeconfigError(message: "\(file): \(kind) \"\(name)\": \(kind) is not a mapping")
            }
            guard found[name] == nil else {
                throw KubeconfigError(message: "\(file): \(kind) \"\(name)\" is defined twice")
            }
            found[name] = KubeconfigEntry(kind: kind, name: name, fields: fields, file: file)
        }
        return found
    }

    /// Adds a later file: a name already defined keeps its first definition, and
    /// current-context comes from the first file that sets one (kubectl's rules for KUBECONFIG).
    mutating func merge(_ later: Kubeconfig) {
        Self.keepFirst(&clusters, later.clusters)
        Self.keepFirst(&users, later.users)
        Self.keepFirst(&contexts, later.contexts)
        if currentContext == nil { currentContext = later.currentContext }
        files += later.files
    }

    /// Adds the entries of `later` whose names `entries` lacks. Not Dictionary.merge,
    /// whose rethrows casts an error dynamically, which Embedded Swift cannot.
    private static func keepFirst(_ entries: inout [String: KubeconfigEntry], _ later: [String: KubeconfigEntry]) {
        for (name, entry) in later where entries[name] == nil { entries[name] = entry }
    }

    /// The context to use: `requested`, else current-context; with its cluster and user (nil when it names none).
    func select(context requested: String?) throws(KubeconfigError) -> (context: KubeconfigEntry, cluster: KubeconfigEntry, user: KubeconfigEntry?) {
        let sources = files.joined(separator: ":")
        guard let name = requested ?? currentContext else {
            throw KubeconfigError(message: "\(sources) has no current-context; set KUBECONFIG_CONTEXT (contexts: \(names(contexts)))")
        }
        guard let context = contexts[name] else {
            throw KubeconfigError(message: "\(sources) has no context \"\(name)\" (contexts: \(names(contexts)))")
        }
        guard let clusterName = context.fields["cluster"]?.stringValue, !clusterName.isEmpty else {
            throw KubeconfigError(message: "\(context.label) names no cluster")
        }
        guard let cluster = clusters[clusterName] else {
            throw KubeconfigError(message: "\(context.label) names cluster \"\(clusterName)\", which \(sources) does not define")
        }
        var user: KubeconfigEntry?
        if let userName = context.fields["user"]?.stringValue, !userName.isEmpty {
            guard let found = users[userName] else {
                throw KubeconfigError(message: "\(context.label) names user \"\(userName)\", which \(sources) does not define")
            }
            user = found
        }
        return (context, cluster, user)
    }

    private func names(_ entries: [String: KubeconfigEntry]) -> String {
        entries.isEmpty ? "none" : entries.keys.sorted().joined(separator: ", ")
    }
}

/// `path` as kubectl resolves a path inside a kubeconfig: relative to the folder of `file`.
func resolveKubeconfigPath(_ path: String, relativeTo file: String) -> String {
    if path.hasPrefix("/") { return path }
    let bytes = Array(file.utf8)
    guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return path }
    return String(decoding: bytes[...slash], as: UTF8.self) + path
}

/// The colon-separated KUBECONFIG list without empty entries and repeats, in order.
func splitKubeconfigList(_ list: String) -> [String] {
    var paths: [String] = []
    for part in list.split(separator: ":", omittingEmptySubsequences: true) where !paths.contains(String(part)) {
        paths.append(String(part))
    }
    return paths
}

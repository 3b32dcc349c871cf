import HTTPLite
import JSON

/// Reads a kubeconfig user's `exec` section into an `ExecPlugin`, checking it as client-go does.
struct ExecPluginReader {
    let user: KubeconfigEntry
    let io: EndpointIO

    /// The plugin to run; `cluster`, `server` and `tls` feed KUBERNETES_EXEC_INFO when provideClusterInfo is set.
    func plugin(_ exec: JSON, cluster: KubeconfigEntry, server: HTTPURL,
                tls: TLSConfiguration) throws(KubeconfigError) -> ExecPlugin {
        guard let fields = exec.objectValue else { throw KubeconfigError(message: "\(user.label): exec is not a mapping") }
        let entry = KubeconfigEntry(kind: "exec of user", name: user.name, fields: fields, file: user.file)
        guard var command = try entry.string("command") else {
            throw KubeconfigError(message: "\(entry.label) has no command")
        }
        guard let apiVersion = try entry.string("apiVersion"), ExecPlugin.versions.contains(apiVersion) else {
            throw KubeconfigError(message: "\(entry.label): apiVersion must be \(ExecPlugin.versions.joined(separator: " or "))")
        }
        switch try entry.string("interactiveMode") {
        case .none where apiVersion == ExecPlugin.versions[0]:
            throw KubeconfigError(message: "\(entry.label): interactiveMode must be set for \(apiVersion)")
        case .none, .some("Never"), .some("IfAvailable"):
            break
        case .some("Always"):
            throw KubeconfigError(message: "\(entry.label): interactiveMode Always needs a terminal, and the watcher has none")
        case .some(let other):
            throw KubeconfigError(message: "\(entry.label): interactiveMode \"\(other)\" is not Never, IfAvailable or Always")
        }
        // client-go resolves a command with a slash against the kubeconfig's folder, and leaves a bare name to PATH.
        if command.utf8.contains(UInt8(ascii: "/")) {
            command = resolveKubeconfigPath(command, relativeTo: user.file)
        }
        var arguments: [String] = []
        for argument in try list(entry, "args") {
            guard let text = argument.stringValue else { throw KubeconfigError(message: "\(entry.label): args holds a non-string") }
            arguments.append(text)
        }
        var environment: [String] = []
        for variable in try list(entry, "env") {
            guard let name = variable["name"]?.stringValue, !name.isEmpty, let value = variable["value"]?.stringValue else {
                throw KubeconfigError(message: "\(entry.label): each env entry needs a name and a value")
            }
            environment.append("\(name)=\(value)")
        }
        let info = try entry.bool("provideClusterInfo") == true ? try clusterInfo(cluster, server: server, tls: tls) : nil
        return ExecPlugin(command: command, arguments: arguments, environment: environment, apiVersion: apiVersion,
                          installHint: try entry.string("installHint"), cluster: info, origin: user.label)
    }

    private func list(_ entry: KubeconfigEntry, _ name: String) throws(KubeconfigError) -> [JSON] {
        switch entry.fields[name] {
        case .none, .some(.null): return []
        case .some(.array(let items)): return items
        case .some: throw KubeconfigError(message: "\(entry.label): \(name) is not a list")
        }
    }

    /// `spec.cluster` as client-go fills it: the connection details, the CA as
    /// base64 and the `client.authentication.k8s.io/exec` extension as `config`.
    private func clusterInfo(_ cluster: KubeconfigEntry, server: HTTPURL,
                             tls: TLSConfiguration) throws(KubeconfigError) -> JSON {
        var info = JSONObject()
        info.append(key: "server", value: .string(try cluster.string("server") ?? server.description))
        if let name = tls.serverName { info.append(key: "tls-server-name", value: .string(name)) }
        if !tls.verifiesPeer { info.append(key: "insecure-skip-tls-verify", value: .bool(true)) }
        switch tls.trustRoots {
        case .none:
            break
        case .some(.bytes(let pem)):
            info.append(key: "certificate-authority-data", value: .string(Base64.encode(pem)))
        case .some(.file(let path)):
            if case .success(let pem) = io.readFile(path) {
                info.append(key: "certificate-authority-data", value: .string(Base64.encode(pem)))
            }
        }
        for extensionEntry in try list(cluster, "extensions")
        where extensionEntry["name"]?.stringValue == "client.authentication.k8s.io/exec" {
            if let config = extensionEntry["extension"] { info.append(key: "config", value: config) }
        }
        return .object(info)
    }
}

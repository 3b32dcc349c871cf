import HTTPLite
import JSON

/// Builds an `APIEndpoint` from the chosen context of merged kubeconfig files
/// (which files: `APIEndpoint.kubeconfigPath` and its neighbours decide).
struct KubeconfigEndpointBuilder {
    let io: EndpointIO

    /// Reads `files` (each must exist), merges them, picks `contextName` or the current context, and builds the endpoint.
    func endpoint(mode: String, files: [String], contextName: String?, source: String) throws(KubeconfigError) -> APIEndpoint {
        var merged: Kubeconfig?
        for file in files {
            let bytes: [UInt8]
            switch io.readFile(file) {
            case .success(let read): bytes = read
            case .failure(let error): throw KubeconfigError(message: "cannot read \(file): \(error.detail)")
            }
            let config = try Kubeconfig.parse(bytes, file: file)
            if merged == nil { merged = config } else { merged!.merge(config) }
        }
        guard let merged else { throw KubeconfigError(message: "no kubeconfig file to read") }
        let (context, cluster, user) = try merged.select(context: contextName)
        let server = try serverURL(cluster)
        var tls = try clusterTLS(cluster)
        var token = APIEndpoint.Token.none
        if let user {
            if server.scheme == .http && !credentialFields(user).isEmpty {
                throw KubeconfigError(message: "\(cluster.label): server \(server) is plain http://, and credentials are never sent over plain HTTP")
            }
            token = try credentials(user, cluster: cluster, server: server, tls: &tls)
        }
        let namespace = try context.string("namespace")
        return APIEndpoint(mode: mode, baseURL: server, tls: tls, token: token, namespaceFromFile: namespace,
                           source: "\(source), context \(context.name)")
    }

    private func serverURL(_ cluster: KubeconfigEntry) throws(KubeconfigError) -> HTTPURL {
        guard let text = try cluster.string("server") else { throw KubeconfigError(message: "\(cluster.label) has no server") }
        let url: HTTPURL
        do {
            url = try HTTPURL(text)
        } catch {
            // The detail shows the URL with control characters escaped, unlike `text`.
            throw KubeconfigError(message: "\(cluster.label): server is not an http(s):// URL without a path: \(error.detail)")
        }
        guard url.target == "/" else {
            throw KubeconfigError(message: "\(cluster.label): server \"\(url)\" is not an http(s):// URL without a path")
        }
        return url
    }

    private func clusterTLS(_ cluster: KubeconfigEntry) throws(KubeconfigError) -> TLSConfiguration {
        var tls = TLSConfiguration()
        tls.trustRoots = try pem(cluster, dataField: "certificate-authority-data", pathField: "certificate-authority")
        if try cluster.bool("insecure-skip-tls-verify") == true {
            // kubectl refuses this combination rather than picking one.
            guard tls.trustRoots == nil else {
                throw KubeconfigError(message: "\(cluster.label) sets both a certificate authority and insecure-skip-tls-verify")
            }
            tls.verifiesPeer = false
        }
        tls.serverName = try cluster.string("tls-server-name")
        if try cluster.string("proxy-url") != nil {
            throw KubeconfigError(message: "\(cluster.label): proxy-url is not supported")
        }
        return tls
    }

    /// The user fields that carry credentials, present in `user`.
    private func credentialFields(_ user: KubeconfigEntry) -> [String] {
        ["token", "tokenFile", "client-certificate", "client-certificate-data", "client-key", "client-key-data", "exec"]
            .filter { user.fields[$0].map { !$0.isNull } ?? false }
    }

    private func credentials(_ user: KubeconfigEntry, cluster: KubeconfigEntry, server: HTTPURL,
                             tls: inout TLSConfiguration) throws(KubeconfigError) -> APIEndpoint.Token {
        for field in ["auth-provider", "username", "password", "as", "as-uid", "as-groups", "as-user-extra"]
        where user.fields[field].map({ !$0.isNull && $0 != .string("") && $0 != .array([]) && $0 != .object(JSONObject()) }) ?? false {
            throw KubeconfigError(message: "\(user.label): \(field) is not supported (use token, tokenFile, a client certificate or exec)")
        }
        tls.certificate = try pem(user, dataField: "client-certificate-data", pathField: "client-certificate")
        tls.privateKey = try pem(user, dataField: "client-key-data", pathField: "client-key")
        if (tls.certificate == nil) != (tls.privateKey == nil) {
            throw KubeconfigError(message: "\(user.label): client-certificate and client-key go together")
        }
        var token = APIEndpoint.Token.none
        if let path = try user.string("tokenFile") {
            // client-go re-reads tokenFile and prefers it to token.
            let resolved = resolveKubeconfigPath(path, relativeTo: user.file)
            guard io.fileExists(resolved) else {
                throw KubeconfigError(message: "\(user.label): tokenFile \(resolved) cannot be read")
            }
            token = .file(resolved)
        } else if let value = try user.string("token") {
            token = .fixed(value)
        }
        guard let exec = user.fields["exec"], !exec.isNull else { return token }
        guard token == .none && tls.certificate == nil else {
            throw KubeconfigError(message: "\(user.label) sets exec together with a token or client certificate; use one")
        }
        let plugin = try ExecPluginReader(user: user, io: io).plugin(exec, cluster: cluster, server: server, tls: tls)
        let credential: ExecCredential
        switch io.runPlugin(plugin) {
        case .success(let value): credential = value
        case .failure(let error): throw error
        }
        if let certificate = credential.certificate, let key = credential.key {
            tls.certificate = .bytes(certificate)
            tls.privateKey = .bytes(key)
        }
        return .exec(plugin, first: credential)
    }

    /// A PEM from `<dataField>` (base64; it wins, as in kubectl) or the file at `<pathField>`; nil when neither is set.
    func pem(_ entry: KubeconfigEntry, dataField: String, pathField: String) throws(KubeconfigError) -> TLSConfiguration.PEMSource? {
        if let data = try entry.string(dataField) {
            guard let bytes = Base64.decode(data) else {
                throw KubeconfigError(message: "\(entry.label): \(dataField) is not valid base64")
            }
            guard holdsPEM(bytes) else { throw KubeconfigError(message: "\(entry.label): \(dataField) holds no PEM block") }
            return .bytes(bytes)
        }
        guard let path = try entry.string(pathField) else { return nil }
        let resolved = resolveKubeconfigPath(path, relativeTo: entry.file)
        switch io.readFile(resolved) {
        case .success(let bytes):
            guard holdsPEM(bytes) else { throw KubeconfigError(message: "\(entry.label): \(pathField) \(resolved) holds no PEM block") }
            return .file(resolved)
        case .failure(let error):
            throw KubeconfigError(message: "\(entry.label): cannot read \(pathField) \(resolved): \(error.detail)")
        }
    }
}

/// Whether `bytes` contain a `-----BEGIN ` line, the least a PEM file has.
func holdsPEM(_ bytes: [UInt8]) -> Bool {
    let marker = Array("-----BEGIN ".utf8)
    guard bytes.count >= marker.count else { return false }
    for start in 0...(bytes.count - marker.count) where bytes[start] == marker[0] {
        if bytes[start..<(start + marker.count)].elementsEqual(marker) { return true }
    }
    return false
}

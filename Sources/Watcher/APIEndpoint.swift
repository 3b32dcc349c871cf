import HTTPLite

/// Where the API server is, how to trust it, and how to authenticate.
struct APIEndpoint {
    enum Token: Equatable {
        case none
        case fixed(String)
        /// The service account's token file, which the kubelet rewrites before it expires.
        case file(String)
        /// A kubeconfig exec plugin, and what its run at start printed.
        case exec(ExecPlugin, first: ExecCredential)

        /// Whether a 401 is worth fetching the credential again (and retrying once).
        var refreshesAfter401: Bool {
            switch self {
            case .none, .fixed: return false
            case .file, .exec: return true
            }
        }
    }

    let mode: String
    let baseURL: HTTPURL
    let tls: TLSConfiguration
    let token: Token
    /// The namespace from the service account's files, when running in a pod,
    /// or from the kubeconfig context.
    let namespaceFromFile: String?
    /// Where the settings came from, for the startup log (which kubeconfig, which context).
    var source = ""

    static let defaultServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// Reads `KUBE_CONNECTION` and its companions (see the README). Reports every
    /// problem, including files that cannot be read and failing exec plugins, as
    /// `SettingError`s. Kubeconfig exec plugins run here once, so a broken one stops the start.
    static func resolve(environment: [String: String], fileExists: @escaping (String) -> Bool,
                        readFile: @escaping (String) -> Result<[UInt8], HTTPError> = EndpointIO.readLocal,
                        runPlugin: @escaping (ExecPlugin) -> Result<ExecCredential, KubeconfigError> = { $0.runResult() })
        -> Result<APIEndpoint, SettingErrors> {
        func value(_ name: String) -> String? {
            environment[name].flatMap { $0.isEmpty ? nil : $0 }
        }
        let inPod = value("KUBERNETES_SERVICE_HOST") != nil
        let io = EndpointIO(fileExists: fileExists, readFile: readFile, runPlugin: runPlugin)
        guard let mode = value("KUBE_CONNECTION") ?? (inPod ? "cluster" : nil) else {
            return kubeconfigFallback(value: value, io: io)
        }
        switch mode {
        case "cluster":
            return cluster(value: value, fileExists: fileExists)
        case "http":
            return remote(mode: mode, value: value, fileExists: fileExists)
        case "token":
            return remote(mode: mode, value: value, fileExists: fileExists)
        case "kubeconfig":
            return kubeconfigPath(value: value, io: io, how: "KUBECONFIG_PATH")
        case "environment":
            return kubeconfigList(value: value, io: io, how: "KUBECONFIG")
        default:
            return .failure(SettingErrors(errors: [SettingError(setting: "KUBE_CONNECTION", value: mode,
                                                                accepted: "expected cluster, http, token, kubeconfig or environment")]))
        }
    }

    private static func cluster(value: (String) -> String?, fileExists: (String) -> Bool) -> Result<APIEndpoint, SettingErrors> {
        var errors: [SettingError] = []
        let host = value("KUBERNETES_SERVICE_HOST") ?? ""
        let port = value("KUBERNETES_SERVICE_PORT") ?? "443"
        let dir = value("SERVICE_ACCOUNT_DIR") ?? defaultServiceAccountDir
        let tokenPath = dir + "/token"
        let caPath = dir + "/ca.crt"
        let namespacePath = dir + "/namespace"
        if host.isEmpty {
            errors.append(SettingError(setting: "KUBERNETES_SERVICE_HOST", value: "",
                                       accepted: "KUBE_CONNECTION=cluster needs the API server address that Kubernetes sets in every pod"))
        }
        for path in [tokenPath, caPath] where !fileExists(path) {
            errors.append(SettingError(setting: "SERVICE_ACCOUNT_DIR", value: dir,
                                       accepted: "KUBE_CONNECTION=cluster cannot read \(path) (is a service account token mounted?)"))
        }
        let bracketed = host.contains(":") ? "[\(host)]" : host
        // A `/`, `?` or `#` would end the authority early and turn the rest into a path, query or fragment.
        let endsAuthority = (host + port).utf8.contains { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }
        let url = endsAuthority ? nil : try? HTTPURL("https://\(bracketed):\(port)")
        if url == nil && !host.isEmpty {
            errors.append(SettingError(setting: "KUBERNETES_SERVICE_HOST", value: "\(host):\(port)",
                                       accepted: "an IP address or host name and a port from 1 to 65535"))
        }
        guard errors.isEmpty, let url else { return .failure(SettingErrors(errors: errors)) }
        var namespace: String?
        if fileExists(namespacePath), let bytes = try? readLocalFile(namespacePath, limit: 4096) {
            namespace = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
        }
        return .success(APIEndpoint(mode: "cluster", baseURL: url, tls: TLSConfiguration(trustRoots: .file(caPath)),
                                    token: .file(tokenPath), namespaceFromFile: namespace, source: "service account in \(dir)"))
    }

    private static func remote(mode: String, value: (String) -> String?, fileExists: (String) -> Bool) -> Result<APIEndpoint, SettingErrors> {
        var errors: [SettingError] = []
        let scheme = mode == "http" ? "http" : "https"
        guard let host = value("KUBE_HOST") else {
            return .failure(SettingErrors(errors: [SettingError(setting: "KUBE_HOST", value: "", accepted: "KUBE_CONNECTION=\(mode) needs the API server URL in KUBE_HOST")]))
        }
        let hasScheme = host.utf8.count > 7 && (host.hasPrefix("http://") || host.hasPrefix("https://"))
        let text = hasScheme ? host : "\(scheme)://\(host)"
        guard let url = try? HTTPURL(text), url.scheme.rawValue == scheme, url.target == "/" else {
            return .failure(SettingErrors(errors: [SettingError(setting: "KUBE_HOST", value: host,
                                          accepted: "an \(scheme):// URL of the API server, with no path (KUBE_CONNECTION=\(mode))")]))
        }
        if mode == "http" {
            // Never send a token in clear text.
            return .success(APIEndpoint(mode: mode, baseURL: url, tls: TLSConfiguration(), token: .none, namespaceFromFile: nil,
                                        source: "KUBE_HOST"))
        }
        var tls = TLSConfiguration()
        if let verify = value("KUBE_VERIFY_SSL") {
            if let flag = parseBoolean(verify) {
                tls.verifiesPeer = flag
            } else {
                errors.append(SettingError(setting: "KUBE_VERIFY_SSL", value: verify, accepted: "expected true, false, 1, 0, yes or no"))
            }
        }
        for name in ["KUBE_CA_PATH", "KUBE_CERTIFICATE_PATH", "KUBE_KEY_PATH"] {
            if let path = value(name), !fileExists(path) {
                errors.append(SettingError(setting: name, value: path, accepted: "a readable PEM file"))
            }
        }
        tls.trustRoots = value("KUBE_CA_PATH").map { .file($0) }
        tls.certificate = value("KUBE_CERTIFICATE_PATH").map { .file($0) }
        tls.privateKey = value("KUBE_KEY_PATH").map { .file($0) }
        if (tls.certificate == nil) != (tls.privateKey == nil) {
            errors.append(SettingError(setting: "KUBE_CERTIFICATE_PATH", value: value("KUBE_CERTIFICATE_PATH") ?? "",
                                       accepted: "KUBE_CERTIFICATE_PATH and KUBE_KEY_PATH go together"))
        }
        let token = value("KUBE_BEARER_TOKEN")
        if token == nil && tls.certificate == nil {
            errors.append(SettingError(setting: "KUBE_BEARER_TOKEN", value: "",
                                       accepted: "KUBE_CONNECTION=token needs KUBE_BEARER_TOKEN (or a client certificate)"))
        }
        guard errors.isEmpty else { return .failure(SettingErrors(errors: errors)) }
        return .success(APIEndpoint(mode: mode, baseURL: url, tls: tls, token: token.map { .fixed($0) } ?? .none,
                                    namespaceFromFile: nil, source: "KUBE_HOST"))
    }
}

import HTTPLite

/// How the API server's certificate is trusted, in the words of the settings a user changes.
extension APIEndpoint {
    /// The setting that supplies the CA for this connection mode: what to check
    /// when the API server's certificate does not verify.
    var certificateAuthoritySetting: String {
        switch mode {
        case "cluster":
            return "the service account's ca.crt (\(trustRootsText))"
        case "kubeconfig", "environment":
            return "the kubeconfig's certificate-authority or certificate-authority-data (\(source))"
        default:
            return "KUBE_CA_PATH (\(trustRootsText))"
        }
    }

    /// The setting that turned certificate verification off, nil when the API server is verified
    /// (or spoken to over plain HTTP, where there is nothing to verify).
    var verificationOffSetting: String? {
        guard baseURL.scheme == .https, !tls.verifiesPeer else { return nil }
        switch mode {
        case "kubeconfig", "environment": return "insecure-skip-tls-verify (\(source))"
        default: return "KUBE_VERIFY_SSL=false"
        }
    }

    private var trustRootsText: String {
        switch tls.trustRoots {
        case .file(let path): return path
        case .bytes: return "PEM data"
        case .none: return "unset: the system's CA paths"
        }
    }
}

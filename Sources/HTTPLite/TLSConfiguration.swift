/// How an `HTTPClient` sets up TLS for `https://` URLs. TLS 1.2 is the minimum and
/// OpenSSL's security level 2 applies, whatever openssl.cnf says; names are checked as
/// RFC 9525 has it (DNS SANs only, wildcards only as the whole left-most label),
/// IP addresses against IP SANs only.
public struct TLSConfiguration: Sendable {
    /// PEM data given as a file path or as the bytes themselves.
    public enum PEMSource: Sendable, Equatable {
        case file(String)
        case bytes([UInt8])
    }

    /// The CAs that may sign the server's chain; nil means the system's default paths.
    public var trustRoots: PEMSource?
    /// A client certificate (with any intermediates after it) and its key, for mutual TLS.
    public var certificate: PEMSource?
    public var privateKey: PEMSource?
    /// When false, neither the chain nor the host name is checked. Only for when a user asks.
    public var verifiesPeer: Bool
    /// The name to send in SNI and to verify the certificate against instead of
    /// the URL's host (kubeconfig `tls-server-name`); nil means the URL's host.
    public var serverName: String?

    public init(trustRoots: PEMSource? = nil, certificate: PEMSource? = nil,
                privateKey: PEMSource? = nil, verifiesPeer: Bool = true, serverName: String? = nil) {
        self.trustRoots = trustRoots
        self.certificate = certificate
        self.privateKey = privateKey
        self.verifiesPeer = verifiesPeer
        self.serverName = serverName
    }
}

import CTLS

/// The OpenSSL library linked in, as it names itself (for example "OpenSSL 3.0.15 3 Sep 2024").
public func openSSLVersion() -> String {
    String(cString: OpenSSL_version(OPENSSL_VERSION))
}

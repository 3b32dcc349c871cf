import CTLS

/// An OpenSSL `SSL_CTX` built once from a `TLSConfiguration` and shared by its connections.
final class TLSContext {
    let pointer: OpaquePointer
    let verifiesPeer: Bool
    /// `TLSConfiguration.serverName`: what the sessions verify and send as SNI instead of the URL's host.
    let serverName: String?

    init(_ configuration: TLSConfiguration) throws(HTTPError) {
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw HTTPError(.tlsConfiguration, "SSL_CTX_new: \(openSSLErrorReason())")
        }
        pointer = context
        verifiesPeer = configuration.verifiesPeer
        serverName = configuration.serverName
        // Set after SSL_CTX_new, which applies openssl.cnf: a system configuration
        // (OPENSSL_CONF) may lower both, and this client never goes below them.
        try setupCheck(ctls_ctx_set_min_version(context, TLS1_2_VERSION) == 1, "set TLS 1.2 as the minimum version")
        // Level 2: no RSA or DH key under 2048 bits, no SHA-1 signature, anywhere in the chain.
        SSL_CTX_set_security_level(context, 2)
        try setupCheck(SSL_CTX_get_security_level(context) == 2, "set security level 2")
        try setupCheck(ctls_ctx_ignore_unexpected_eof(context) == 1, "set SSL_OP_IGNORE_UNEXPECTED_EOF")
        // Swift arrays may move between a write that would block and its retry.
        let mode = Int(SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER)
        try setupCheck(ctls_ctx_set_mode(context, mode) & mode != 0, "set SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER")
        SSL_CTX_set_verify(context, configuration.verifiesPeer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)

        switch configuration.trustRoots {
        case .none:
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw HTTPError(.tlsConfiguration, "cannot load the system CA paths: \(openSSLErrorReason())")
            }
        case .file(let path):
            guard SSL_CTX_load_verify_locations(context, path, nil) == 1 else {
                throw HTTPError(.tlsConfiguration, "cannot load CA file \(path): \(openSSLErrorReason())")
            }
        case .bytes(let pem):
            let certificates = try readCertificates(pem, what: "CA bundle")
            let store = SSL_CTX_get_cert_store(context)
            defer { certificates.forEach { X509_free($0) } }
            for certificate in certificates {
                try setupCheck(X509_STORE_add_cert(store, certificate) == 1, "add a CA to the trust store")
            }
        }

        try useClientIdentity(configuration)
    }

    deinit {
        SSL_CTX_free(pointer)
    }

    private func useClientIdentity(_ configuration: TLSConfiguration) throws(HTTPError) {
        switch (configuration.certificate, configuration.privateKey) {
        case (.none, .none):
            return
        case (.some, .none), (.none, .some):
            throw HTTPError(.tlsConfiguration, "a client certificate needs its private key, and a key its certificate")
        case (.some(let certificate), .some(let key)):
            switch certificate {
            case .file(let path):
                guard SSL_CTX_use_certificate_chain_file(pointer, path) == 1 else {
                    throw HTTPError(.tlsConfiguration, "cannot load client certificate \(path): \(openSSLErrorReason())")
                }
            case .bytes(let pem):
                let chain = try readCertificates(pem, what: "client certificate")
                defer { chain.forEach { X509_free($0) } }
                guard SSL_CTX_use_certificate(pointer, chain[0]) == 1 else {
                    throw HTTPError(.tlsConfiguration, "cannot use the client certificate: \(openSSLErrorReason())")
                }
                for intermediate in chain.dropFirst() {
                    try setupCheck(ctls_ctx_add_chain_cert(pointer, intermediate) == 1,
                                   "add an intermediate to the client certificate's chain")
                }
            }
            switch key {
            case .file(let path):
                guard SSL_CTX_use_PrivateKey_file(pointer, path, SSL_FILETYPE_PEM) == 1 else {
                    throw HTTPError(.tlsConfiguration, "cannot load client key \(path): \(openSSLErrorReason())")
                }
            case .bytes(let pem):
                let privateKey = try withMemoryBIO(pem) { PEM_read_bio_PrivateKey($0, nil, nil, nil) }
                guard let privateKey else {
                    throw HTTPError(.tlsConfiguration, "the client key is not a PEM private key: \(openSSLErrorReason())")
                }
                defer { EVP_PKEY_free(privateKey) }
                guard SSL_CTX_use_PrivateKey(pointer, privateKey) == 1 else {
                    throw HTTPError(.tlsConfiguration, "cannot use the client key: \(openSSLErrorReason())")
                }
            }
            guard SSL_CTX_check_private_key(pointer) == 1 else {
                throw HTTPError(.tlsConfiguration, "the client key does not match its certificate: \(openSSLErrorReason())")
            }
        }
    }
}

/// Throws `.tlsConfiguration` naming the setup step when `succeeded` is false.
private func setupCheck(_ succeeded: Bool, _ step: String) throws(HTTPError) {
    try requireOpenSSL(succeeded, .tlsConfiguration, "cannot \(step)")
}

/// Throws `code` with `what` and OpenSSL's reason when `succeeded` is false:
/// a setup call that failed silently could leave a check unset.
func requireOpenSSL(_ succeeded: Bool, _ code: HTTPError.Code, _ what: @autoclosure () -> String) throws(HTTPError) {
    guard succeeded else {
        throw HTTPError(code, "\(what()): \(openSSLErrorReason())")
    }
}

/// Every certificate in a PEM text; the caller frees them.
private func readCertificates(_ pem: [UInt8], what: String) throws(HTTPError) -> [OpaquePointer] {
    let certificates = try withMemoryBIO(pem) { (bio) -> [OpaquePointer] in
        var found: [OpaquePointer] = []
        while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
            found.append(certificate)
        }
        return found
    }
    // The read that ends the loop leaves "no start line" in the error queue.
    ERR_clear_error()
    guard !certificates.isEmpty else {
        throw HTTPError(.tlsConfiguration, "the \(what) holds no PEM certificate")
    }
    return certificates
}

private func withMemoryBIO<T>(_ bytes: [UInt8], _ body: (OpaquePointer) -> T) throws(HTTPError) -> T {
    try bytes.withUnsafeBytes { raw in
        Result { () throws(HTTPError) -> T in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
                throw HTTPError(.tlsConfiguration, "BIO_new_mem_buf: \(openSSLErrorReason())")
            }
            defer { BIO_free(bio) }
            return body(bio)
        }
    }.get()
}

/// The reason of the oldest error in OpenSSL's queue, which it then empties.
func openSSLErrorReason() -> String {
    let code = ERR_get_error()
    ERR_clear_error()
    guard code != 0 else { return "unknown error" }
    if let reason = ERR_reason_error_string(code) {
        return String(cString: reason)
    }
    var text = [CChar](repeating: 0, count: 256)
    ERR_error_string_n(code, &text, text.count)
    return text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}

import CTLS
#if canImport(Glibc)
import Glibc
#else
import CSystem
#endif

/// One TLS connection over a non-blocking socket. Each operation is tried once;
/// OpenSSL's "want read/write" answers become the poll events to wait for.
final class TLSSession {
    private let ssl: OpaquePointer
    private let socket: Socket
    private let verifiesPeer: Bool

    /// Creates the session for `host`; `handshake()` then completes it.
    init(context: TLSContext, socket: Socket, host: String, hostIsIP: Bool) throws(HTTPError) {
        ERR_clear_error()
        guard let ssl = SSL_new(context.pointer) else {
            throw HTTPError(.tls, "SSL_new: \(openSSLErrorReason())")
        }
        self.ssl = ssl
        self.socket = socket
        self.verifiesPeer = context.verifiesPeer
        try setup(host: host, hostIsIP: hostIsIP)
    }

    deinit {
        SSL_free(ssl)
    }

    /// Binds the socket, sends SNI for names and sets the name or address to verify.
    /// Every call is checked: one that failed silently would leave the host unchecked.
    private func setup(host: String, hostIsIP: Bool) throws(HTTPError) {
        try setupCheck(SSL_set_fd(ssl, socket.descriptor) == 1, "SSL_set_fd")
        if hostIsIP {
            // RFC 6066 forbids IP literals in SNI; the certificate must carry an IP SAN.
            if verifiesPeer {
                try setupCheck(X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1,
                               "X509_VERIFY_PARAM_set1_ip_asc(\(host))")
            }
        } else {
            try setupCheck(ctls_set_sni(ssl, host) == 1, "SSL_set_tlsext_host_name(\(host))")
            if verifiesPeer {
                // As RFC 9525 and Go's crypto/x509: the subject's CN never stands in for a
                // DNS SAN, and a wildcard is only ever the whole left-most label.
                SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
                try setupCheck(SSL_set1_host(ssl, host) == 1, "SSL_set1_host(\(host))")
            }
        }
    }

    private func setupCheck(_ succeeded: Bool, _ call: String) throws(HTTPError) {
        try requireOpenSSL(succeeded, .tls, "cannot set up the TLS session: \(call) failed")
    }

    /// Takes the handshake as far as it goes now: nil when it is complete, else the poll
    /// events to wait for before calling again.
    func handshake() throws(HTTPError) -> Int16? {
        ERR_clear_error()
        let result = SSL_connect(ssl)
        if result == 1 { return nil }
        let error = SSL_get_error(ssl, result)
        let systemError = errno
        if let events = Self.events(wanted: error) { return events }
        throw handshakeFailure(error, systemError: systemError)
    }

    /// The poll events OpenSSL's "want" answer asks for, nil for any other answer.
    private static func events(wanted error: Int32) -> Int16? {
        switch error {
        case SSL_ERROR_WANT_READ: return Int16(POLLIN)
        case SSL_ERROR_WANT_WRITE: return Int16(POLLOUT)
        default: return nil
        }
    }

    /// A refused certificate keeps OpenSSL's verify reason; a peer gone mid-handshake is said so.
    private func handshakeFailure(_ error: Int32, systemError: Int32) -> HTTPError {
        let verify = SSL_get_verify_result(ssl)
        if verifiesPeer && verify != X509_V_OK {
            ERR_clear_error()
            let reason = String(cString: X509_verify_cert_error_string(verify))
            return HTTPError(.certificateRejected, "TLS handshake failed: certificate verify failed: \(reason)")
        }
        let queueIsEmpty = ERR_peek_error() == 0
        // With SSL_OP_IGNORE_UNEXPECTED_EOF a bare EOF reads as ZERO_RETURN, without it as SYSCALL.
        if queueIsEmpty && (error == SSL_ERROR_ZERO_RETURN || (error == SSL_ERROR_SYSCALL && systemError == 0)) {
            return HTTPError(.tls, "TLS handshake failed: the peer closed the connection during the handshake")
        }
        if queueIsEmpty && error == SSL_ERROR_SYSCALL && systemError == ECONNRESET {
            return HTTPError(.tls, "TLS handshake failed: the peer reset the connection during the handshake")
        }
        return HTTPError(.tls, "TLS handshake failed: \(failureReason(error))")
    }

    /// Reads decrypted bytes into `buffer` (0 at end of stream).
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws(HTTPError) -> Socket.Progress {
        ERR_clear_error()
        let count = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        if count > 0 { return .transferred(Int(count)) }
        let error = SSL_get_error(ssl, count)
        // A renegotiation or key update may make a read wait to write.
        if let events = Self.events(wanted: error) { return .wouldBlock(events: events) }
        switch error {
        case SSL_ERROR_ZERO_RETURN:
            return .transferred(0)
        case SSL_ERROR_SYSCALL where errno == ECONNRESET:
            throw HTTPError(.closedEarly, "the peer reset the connection")
        case SSL_ERROR_SYSCALL where ERR_peek_error() == 0:
            return .transferred(0)
        default:
            throw HTTPError(.tls, "TLS read failed: \(failureReason(error))")
        }
    }

    /// Whether OpenSSL already holds decrypted bytes, so waiting on the socket would be wrong.
    var hasBufferedBytes: Bool { SSL_has_pending(ssl) != 0 }

    /// Encrypts and writes what the socket takes of `bytes` now. A write that would block must
    /// be repeated with the same bytes (OpenSSL has kept part of them).
    func send(_ bytes: ArraySlice<UInt8>) throws(HTTPError) -> Socket.Progress {
        ERR_clear_error()
        let written = bytes.withUnsafeBytes { raw in
            SSL_write(ssl, raw.baseAddress, Int32(clamping: raw.count))
        }
        if written > 0 { return .transferred(Int(written)) }
        let error = SSL_get_error(ssl, written)
        if let events = Self.events(wanted: error) { return .wouldBlock(events: events) }
        switch error {
        case SSL_ERROR_SYSCALL where errno == EPIPE || errno == ECONNRESET,
             SSL_ERROR_ZERO_RETURN:
            throw HTTPError(.closedEarly, "the peer closed the connection while the request was sent")
        default:
            throw HTTPError(.tls, "TLS write failed: \(failureReason(error))")
        }
    }

    /// Sends close_notify without waiting for the peer's; the socket is closed next.
    func shutdown() {
        ERR_clear_error()
        SSL_shutdown(ssl)
        ERR_clear_error()
    }

    private func failureReason(_ error: Int32) -> String {
        if error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 {
            let code = errno
            return code == 0 ? "the peer closed the connection" : String(cString: strerror(code))
        }
        return openSSLErrorReason()
    }
}

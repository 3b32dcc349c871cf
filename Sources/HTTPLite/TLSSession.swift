import CTLS
import Glibc

/// One TLS connection over a non-blocking socket. OpenSSL's "want read/write"
/// answers become polls that end at the caller's deadline.
final class TLSSession {
    private let ssl: OpaquePointer
    private let socket: Socket

    /// Creates the session and completes the handshake with `host` before `deadline`.
    init(context: TLSContext, socket: Socket, host: String, hostIsIP: Bool, deadline: Deadline) throws {
        ERR_clear_error()
        guard let ssl = SSL_new(context.pointer) else {
            throw HTTPError(.tls, "SSL_new: \(openSSLErrorReason())")
        }
        self.ssl = ssl
        self.socket = socket
        SSL_set_fd(ssl, socket.descriptor)
        if hostIsIP {
            // RFC 6066 forbids IP literals in SNI; the certificate must carry an IP SAN.
            if context.verifiesPeer {
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host)
            }
        } else {
            _ = ctls_set_sni(ssl, host)
            if context.verifiesPeer {
                SSL_set1_host(ssl, host)
            }
        }
        try handshake(deadline: deadline)
    }

    deinit {
        SSL_free(ssl)
    }

    private func handshake(deadline: Deadline) throws {
        while true {
            ERR_clear_error()
            let result = SSL_connect(ssl)
            if result == 1 { return }
            let error = SSL_get_error(ssl, result)
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                let events = Int16(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT)
                guard try socket.wait(for: events, until: deadline) else {
                    throw HTTPError(.connectTimeout, "the TLS handshake timed out")
                }
            default:
                throw HTTPError(.tls, "TLS handshake failed: \(failureReason(error))")
            }
        }
    }

    /// Reads decrypted bytes into `buffer`: the count, 0 at end of stream, nil when nothing is ready.
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        ERR_clear_error()
        let count = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        if count > 0 { return Int(count) }
        let error = SSL_get_error(ssl, count)
        switch error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return nil
        case SSL_ERROR_ZERO_RETURN:
            return 0
        case SSL_ERROR_SYSCALL where errno == ECONNRESET:
            throw HTTPError(.closedEarly, "the peer reset the connection")
        case SSL_ERROR_SYSCALL where ERR_peek_error() == 0:
            return 0
        default:
            throw HTTPError(.tls, "TLS read failed: \(failureReason(error))")
        }
    }

    /// What to wait for before the next `receive` (a renegotiation may need to write).
    var pendingEvents: Int16 { Int16(SSL_want(ssl) == SSL_WRITING ? POLLOUT : POLLIN) }

    /// Whether OpenSSL already holds decrypted bytes, so waiting on the socket would be wrong.
    var hasBufferedBytes: Bool { SSL_has_pending(ssl) != 0 }

    /// Encrypts and writes all of `bytes` before `deadline`.
    func send(_ bytes: ArraySlice<UInt8>, deadline: Deadline) throws {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            ERR_clear_error()
            let written = bytes[offset...].withUnsafeBytes { raw in
                SSL_write(ssl, raw.baseAddress, Int32(clamping: raw.count))
            }
            if written > 0 {
                offset += Int(written)
                continue
            }
            let error = SSL_get_error(ssl, written)
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                let events = Int16(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT)
                guard try socket.wait(for: events, until: deadline) else {
                    throw HTTPError(.writeTimeout, "sending the request timed out")
                }
            case SSL_ERROR_SYSCALL where errno == EPIPE || errno == ECONNRESET,
                 SSL_ERROR_ZERO_RETURN:
                throw HTTPError(.closedEarly, "the peer closed the connection while the request was sent")
            default:
                throw HTTPError(.tls, "TLS write failed: \(failureReason(error))")
            }
        }
    }

    /// Sends close_notify without waiting for the peer's; the socket is closed next.
    func shutdown() {
        ERR_clear_error()
        SSL_shutdown(ssl)
        ERR_clear_error()
    }

    private func failureReason(_ error: Int32) -> String {
        let verify = SSL_get_verify_result(ssl)
        if verify != X509_V_OK {
            ERR_clear_error()
            return "certificate verify failed: \(String(cString: X509_verify_cert_error_string(verify)))"
        }
        if error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 {
            let code = errno
            return code == 0 ? "the peer closed the connection" : String(cString: strerror(code))
        }
        return openSSLErrorReason()
    }
}

/// The one error HTTPLite throws: what went wrong (`code`) and where or why (`detail`).
public struct HTTPError: Error, CustomStringConvertible, Sendable {
    /// A kind of failure. Compare with the static members, e.g. `error.code == .readTimeout`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// A short, stable name such as `"readTimeout"`, suitable for logs and tests.
        public let name: String
        init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The URL is not an `http://` or `https://` URL this client can use.
        public static let badURL = Code("badURL")
        /// The host name could not be resolved to an address.
        public static let resolve = Code("resolve")
        /// The peer refused the connection (or no address was reachable).
        public static let refused = Code("refused")
        public static let connectTimeout = Code("connectTimeout")
        public static let writeTimeout = Code("writeTimeout")
        public static let readTimeout = Code("readTimeout")
        /// The TLS handshake failed for another reason than the server's certificate
        /// (protocol version, an alert, the peer closing); `detail` has the reason.
        public static let tls = Code("tls")
        /// The server's certificate did not verify: chain, dates, name or address, purpose,
        /// key or signature strength. `detail` has OpenSSL's verify reason.
        public static let certificateRejected = Code("certificateRejected")
        /// The TLS settings themselves are unusable (a missing CA file, a key that does not match).
        public static let tlsConfiguration = Code("tlsConfiguration")
        /// The response broke HTTP/1.1's grammar; `detail` says what.
        public static let malformed = Code("malformed")
        /// A header block or body exceeded its limit.
        public static let tooLarge = Code("tooLarge")
        /// The peer closed the connection before the response was complete.
        public static let closedEarly = Code("closedEarly")
        /// A system call failed; `detail` names it and the errno.
        public static let system = Code("system")
        /// The client's interrupt descriptor became readable (for example a signal arrived).
        public static let interrupted = Code("interrupted")
        /// A server cannot listen there: the address is not numeric, or the port is out of range.
        public static let badAddress = Code("badAddress")
        /// The request itself cannot be sent (a header with a line break, a bad method).
        public static let invalidRequest = Code("invalidRequest")
    }

    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code.name): \(detail)" }

    /// A failed system call as `.system`, named with its errno (`recv: Connection reset by peer (errno 104)`).
    init(_ error: SystemError) {
        self.init(.system, error.description)
    }

    /// A failed system call on a file, named with it (`open /token: No such file or directory (errno 2)`).
    init(_ error: SystemError, path: String) {
        self.init(.system, error.described(as: "\(error.call) \(path)"))
    }
}

extension StringProtocol {
    /// The text with control characters (C0 and DEL) as `\xNN`, so that a hostile
    /// value shown in an error or log message cannot break its line.
    public func escapingControlCharacters() -> String {
        guard utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return String(self) }
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in utf8 {
            if byte < 0x20 || byte == 0x7F {
                out += [UInt8(ascii: "\\"), UInt8(ascii: "x"), digits[Int(byte >> 4)], digits[Int(byte & 15)]]
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

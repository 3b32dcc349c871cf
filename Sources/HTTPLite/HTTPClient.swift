/// An HTTP/1.1 client for `http://` and `https://` URLs: blocking with `execute(_:)`,
/// or stepped from the caller's own `poll` loop with `start(_:)` (see `HTTPExchange`).
///
/// It keeps one idle keep-alive connection per scheme, host and port, and runs one
/// exchange at a time. Not thread-safe: use one client per thread. Creating a client ignores SIGPIPE
/// for the process, since OpenSSL writes to sockets with plain write(2).
public final class HTTPClient {
    public struct Configuration: Sendable {
        /// Seconds for TCP connect plus the TLS handshake.
        public var connectTimeout: Double
        /// Seconds for sending a request and receiving its whole response.
        public var timeout: Double
        public var limits: ResponseLimits
        public var tls: TLSConfiguration
        /// A descriptor (for example a signalfd) whose readability ends any wait of
        /// `execute` with `.interrupted`; -1 for none. The client never reads from it.
        /// A driver of `HTTPExchange` polls its own descriptors instead.
        public var interruptDescriptor: Int32
        /// Seconds to wait for the first byte of the answer to an idempotent request on a
        /// kept-alive connection before sending it once more on a new connection; nil waits
        /// the whole timeout. A middlebox that drops a connection without closing it leaves
        /// it silent forever, while a new connection works. At most a third of the request's
        /// timeout is spent this way, so the new connection keeps the rest.
        public var reusedConnectionTimeout: Double?

        public init(connectTimeout: Double = 5, timeout: Double = 10,
                    limits: ResponseLimits = ResponseLimits(), tls: TLSConfiguration = TLSConfiguration(),
                    interruptDescriptor: Int32 = -1, reusedConnectionTimeout: Double? = nil) {
            self.connectTimeout = connectTimeout
            self.timeout = timeout
            self.limits = limits
            self.tls = tls
            self.interruptDescriptor = interruptDescriptor
            self.reusedConnectionTimeout = reusedConnectionTimeout
        }
    }

    struct ConnectionKey: Hashable {
        let scheme: HTTPURL.Scheme
        let host: String
        let port: Int
    }

    public let configuration: Configuration
    /// How many connections this client has opened, for tests and statistics.
    public internal(set) var connectionsOpened = 0
    private var idle: [ConnectionKey: Connection] = [:]
    private var tlsContext: TLSContext?
    /// The serialized request, lent to the exchange while it runs.
    private var requestBytes: [UInt8] = []
    private var hasExchange = false

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        System.ignoreBrokenPipes()
    }

    deinit {
        closeIdleConnections()
    }

    /// Sends `request` and returns the whole response (any status), waiting as long as it takes
    /// (within the configured deadlines): `start(_:)` and `advance()` with a `poll` in between.
    /// Throws `HTTPError` for anything that kept a response from arriving intact, and
    /// `.interrupted` when the configuration's interrupt descriptor becomes readable.
    public func execute(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let exchange = try start(request)
        while true {
            if let response = try exchange.advance() { return response }
            let (interest, deadline) = exchange.waitingFor
            do throws(HTTPError) {
                try Socket.wait(for: interest, interrupt: configuration.interruptDescriptor, until: deadline)
            } catch {
                exchange.cancel()
                throw error
            }
        }
    }

    /// Starts `request`: takes a kept-alive connection or begins connecting a new one (name
    /// resolution with getaddrinfo may block; IP literals and `localhost` do not). Call
    /// `advance()` on the exchange at once, then whenever its `interest` is ready or its
    /// `wakeAt` has come. Throws for a request that cannot be sent (`.invalidRequest`), a name
    /// that does not resolve, unusable TLS settings, or when every address refused at once.
    /// Only one exchange per client runs at a time: starting another before the last one
    /// answered, failed or was cancelled traps.
    public func start(_ request: HTTPRequest) throws(HTTPError) -> HTTPExchange {
        precondition(!hasExchange, "an HTTPClient runs one exchange at a time; finish or cancel the last one first")
        let bytes = try serialize(request)
        hasExchange = true
        let exchange = HTTPExchange(client: self, request: request, bytes: bytes)
        try exchange.begin()
        return exchange
    }

    /// A GET of `url` with the client's defaults.
    public func get(_ url: String, headers: HTTPHeaders = [:]) throws(HTTPError) -> HTTPResponse {
        try execute(HTTPRequest(url: HTTPURL(url), headers: headers))
    }

    public func closeIdleConnections() {
        for connection in idle.values { connection.close() }
        idle.removeAll()
    }

    /// The kept-alive connection for `key`, taken out of the pool.
    func takeIdleConnection(for key: ConnectionKey) -> Connection? {
        idle.removeValue(forKey: key)
    }

    /// Puts `connection` into the pool for `key`, closing one that was there.
    func keepIdle(_ connection: Connection, for key: ConnectionKey) {
        idle.removeValue(forKey: key)?.close()
        idle[key] = connection
    }

    /// The TLS context every https connection of this client shares, made on first use.
    func sharedTLSContext() throws(HTTPError) -> TLSContext {
        if let tlsContext { return tlsContext }
        let context = try TLSContext(configuration.tls)
        tlsContext = context
        return context
    }

    /// The running exchange ended and hands back the request buffer for the next one.
    func exchangeEnded(returning bytes: [UInt8]) {
        requestBytes = bytes
        hasExchange = false
    }

    /// The request's bytes, written into the reused `requestBytes` buffer, which the caller
    /// takes (a local array, so that appending to it needs no exclusivity check).
    private func serialize(_ request: HTTPRequest) throws(HTTPError) -> [UInt8] {
        guard !request.method.isEmpty, allBytes(of: request.method, are: isWritableNameByte) else {
            throw HTTPError(.invalidRequest, "invalid method \"\(request.method)\"")
        }
        // HTTPURL checks both, but nothing that could split a line is ever written,
        // whatever a future change to it lets through.
        guard !request.url.target.isEmpty, allBytes(of: request.url.target, are: { $0 > 32 && $0 < 127 }) else {
            throw HTTPError(.invalidRequest, "the request target has a character that cannot be sent")
        }
        guard allBytes(of: request.url.hostHeader, are: isFieldValueByte) else {
            throw HTTPError(.invalidRequest, "the Host header has a character that cannot be sent")
        }
        var bytes = requestBytes
        requestBytes = []
        bytes.removeAll(keepingCapacity: true)
        bytes.appendUTF8(request.method)
        bytes.appendUTF8(" ")
        bytes.appendUTF8(request.url.target)
        bytes.appendUTF8(" HTTP/1.1\r\nHost: ")
        bytes.appendUTF8(request.url.hostHeader)
        bytes.appendUTF8("\r\n")
        for (name, value) in request.headers {
            if equalsIgnoringCase(name, "Host") || equalsIgnoringCase(name, "Content-Length")
                || equalsIgnoringCase(name, "Transfer-Encoding") {
                throw HTTPError(.invalidRequest, "the client writes \(name) itself")
            }
            guard !name.isEmpty, allBytes(of: name, are: isWritableNameByte),
                  allBytes(of: value, are: isFieldValueByte)
            else {
                throw HTTPError(.invalidRequest, "header \(name) has a character that cannot be sent")
            }
            bytes.appendUTF8(name)
            bytes.appendUTF8(": ")
            bytes.appendUTF8(value)
            bytes.appendUTF8("\r\n")
        }
        let hasBodySemantics = ["POST", "PUT", "PATCH"].contains(request.method)
        if request.body != nil || hasBodySemantics {
            bytes.appendUTF8("Content-Length: \(request.body?.count ?? 0)\r\n")
        }
        bytes.appendUTF8("\r\n")
        if let body = request.body {
            bytes.append(contentsOf: body)
        }
        return bytes
    }
}

extension [UInt8] {
    fileprivate mutating func appendUTF8(_ text: String) {
        append(contentsOf: text.utf8)
    }
}

/// Whether every UTF-8 byte of `text` passes `test`, read from the string's contiguous
/// storage: a loop over `String.UTF8View` costs several times as much per byte.
private func allBytes(of text: String, are test: (UInt8) -> Bool) -> Bool {
    var text = text
    return text.withUTF8 { $0.allSatisfy(test) }
}

/// A byte that may appear in a method or a header name as this client writes them:
/// visible ASCII other than `:`.
private func isWritableNameByte(_ byte: UInt8) -> Bool {
    byte > 32 && byte < 127 && byte != UInt8(ascii: ":")
}

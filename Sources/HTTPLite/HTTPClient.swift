/// An HTTP/1.1 client for `http://` and `https://` URLs: blocking with `execute(_:)`,
/// or stepped from the caller's own `poll` loop with `start(_:)` (see `HTTPExchange`).
///
/// It keeps one idle keep-alive connection, to the scheme, host and port of the last
/// request (a request elsewhere closes it), and runs one exchange at a time. Not thread-safe: use one client per thread. Creating a client ignores SIGPIPE
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

    /// Where a connection goes; compared field by field, never hashed.
    struct ConnectionKey: Equatable {
        let scheme: HTTPURL.Scheme
        let host: String
        let port: Int

        static func == (lhs: ConnectionKey, rhs: ConnectionKey) -> Bool {
            lhs.port == rhs.port && lhs.scheme == rhs.scheme && lhs.host == rhs.host
        }
    }

    public let configuration: Configuration
    /// How many connections this client has opened, for tests and statistics.
    public internal(set) var connectionsOpened = 0
    /// The one kept-alive connection, and where it goes: a client talks to one server.
    private var idle: (key: ConnectionKey, connection: Connection)?
    private var tlsContext: TLSContext?
    /// The serialized request, lent to the exchange while it runs.
    private var requestBytes: [UInt8] = []
    /// What `requestBytes` were made from; nil while they are lent out or after a failure.
    private var serialized: RequestParts?
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
        idle?.connection.close()
        idle = nil
    }

    /// The kept-alive connection if it goes to `key`, taken out of its slot; one that goes
    /// elsewhere is closed, since the client now talks to `key`.
    func takeIdleConnection(for key: ConnectionKey) -> Connection? {
        guard let (kept, connection) = idle else { return nil }
        idle = nil
        if kept == key { return connection }
        connection.close()
        return nil
    }

    /// Keeps `connection` for `key`, closing one that was kept.
    func keepIdle(_ connection: Connection, for key: ConnectionKey) {
        idle?.connection.close()
        idle = (key, connection)
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
        // A client sends the same request again and again: the bytes made for the last one
        // still hold, found with a few comparisons (identical strings and arrays compare by storage).
        if let serialized, !requestBytes.isEmpty, serialized.matches(request) {
            let bytes = requestBytes
            requestBytes = []
            return bytes
        }
        serialized = nil
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
        bytes.append(32)
        bytes.appendUTF8(request.url.target)
        bytes.appendUTF8(" HTTP/1.1\r\nHost: ")
        bytes.appendUTF8(request.url.hostHeader)
        bytes.append(13)
        bytes.append(10)
        // The names and values are bytes already: checked and copied without making a String.
        let headers = request.headers
        let fieldBytes = headers.bytes[...]
        var position = 0
        while let field = headers.field(after: &position) {
            let name = fieldBytes[field.name]
            if bytesEqualIgnoringCase(name, "host") || bytesEqualIgnoringCase(name, "content-length")
                || bytesEqualIgnoringCase(name, "transfer-encoding") {
                throw HTTPError(.invalidRequest, "the client writes \(String(decoding: name, as: UTF8.self)) itself")
            }
            guard !name.isEmpty, name.allSatisfy(isWritableNameByte),
                  fieldBytes[field.value].allSatisfy(isFieldValueByte)
            else {
                throw HTTPError(.invalidRequest, "header \(String(decoding: name, as: UTF8.self)) has a character that cannot be sent")
            }
            bytes.append(contentsOf: name)
            bytes.append(58)
            bytes.append(32)
            bytes.append(contentsOf: fieldBytes[field.value])
            bytes.append(13)
            bytes.append(10)
        }
        let method = request.method
        if request.body != nil || method == "POST" || method == "PUT" || method == "PATCH" {
            bytes.appendUTF8("Content-Length: \(request.body?.count ?? 0)\r\n")
        }
        bytes.append(13)
        bytes.append(10)
        if let body = request.body {
            bytes.append(contentsOf: body)
        }
        serialized = RequestParts(request)
        return bytes
    }
}

/// The parts of a request that its bytes are made from.
private struct RequestParts {
    let method: String
    let target: String
    let hostHeader: String
    let headers: HTTPHeaders
    let body: [UInt8]?

    init(_ request: HTTPRequest) {
        method = request.method
        target = request.url.target
        hostHeader = request.url.hostHeader
        headers = request.headers
        body = request.body
    }

    /// Whether `request` would be written as the same bytes.
    func matches(_ request: HTTPRequest) -> Bool {
        method == request.method && target == request.url.target && hostHeader == request.url.hostHeader
            && headers.hasSameFields(as: request.headers) && body == request.body
    }
}

extension [UInt8] {
    /// Appends the UTF-8 bytes of `text` in one copy from its contiguous storage: appending
    /// a `String.UTF8View` goes through the view's iterator.
    fileprivate mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
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

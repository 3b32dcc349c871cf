/// A blocking HTTP/1.1 client for `http://` and `https://` URLs.
///
/// It keeps one idle keep-alive connection per scheme, host and port. Not
/// thread-safe: use one client per thread. Creating a client ignores SIGPIPE
/// for the process, since OpenSSL writes to sockets with plain write(2).
public final class HTTPClient {
    public struct Configuration: Sendable {
        /// Seconds for TCP connect plus the TLS handshake.
        public var connectTimeout: Double
        /// Seconds for sending a request and receiving its whole response.
        public var timeout: Double
        public var limits: ResponseLimits
        public var tls: TLSConfiguration
        /// A descriptor (for example a signalfd) whose readability ends any wait
        /// with `.interrupted`; -1 for none. The client never reads from it.
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

    private struct ConnectionKey: Hashable {
        let scheme: HTTPURL.Scheme
        let host: String
        let port: Int
    }

    public let configuration: Configuration
    /// How many connections this client has opened, for tests and statistics.
    public private(set) var connectionsOpened = 0
    private var idle: [ConnectionKey: Connection] = [:]
    private var tlsContext: TLSContext?
    private var requestBytes: [UInt8] = []

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        System.ignoreBrokenPipes()
    }

    deinit {
        closeIdleConnections()
    }

    /// Sends `request` and returns the whole response (any status).
    /// Throws `HTTPError` for anything that kept a response from arriving intact.
    public func execute(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        try serialize(request)
        let timeout = request.timeout ?? configuration.timeout
        let key = ConnectionKey(scheme: request.url.scheme, host: request.url.host, port: request.url.port)
        var deadline: Deadline?
        if let connection = idle.removeValue(forKey: key) {
            if !request.isIdempotent && connection.peerHasClosed {
                // A request with effects is never sent where it may be lost.
                connection.close()
            } else {
                let whole = Deadline.after(seconds: timeout)
                let firstByte = request.isIdempotent
                    ? configuration.reusedConnectionTimeout.map { Deadline.after(seconds: min($0, timeout / 3)) }
                    : nil
                do throws(HTTPError) {
                    return try exchange(request, on: connection, key: key, deadline: whole, firstByteDeadline: firstByte)
                } catch where connection.receivedNothing && request.isIdempotent
                    && (error.code == .closedEarly || (error.code == .readTimeout && !whole.hasPassed)) {
                    // The server had closed the idle connection, or the connection went
                    // silent: the request was not answered. Send it once more, on a new
                    // connection, within the same deadline.
                    deadline = whole
                }
            }
        }
        let connection = try openConnection(to: request.url, timeout: request.connectTimeout ?? configuration.connectTimeout)
        return try exchange(request, on: connection, key: key, deadline: deadline ?? .after(seconds: timeout),
                            firstByteDeadline: nil)
    }

    /// A GET of `url` with the client's defaults.
    public func get(_ url: String, headers: HTTPHeaders = [:]) throws(HTTPError) -> HTTPResponse {
        try execute(HTTPRequest(url: HTTPURL(url), headers: headers))
    }

    public func closeIdleConnections() {
        for connection in idle.values { connection.close() }
        idle.removeAll()
    }

    private func openConnection(to url: HTTPURL, timeout: Double) throws(HTTPError) -> Connection {
        var context: TLSContext?
        if url.scheme == .https {
            if tlsContext == nil { tlsContext = try TLSContext(configuration.tls) }
            context = tlsContext
        }
        let connection = try Connection(to: url, tlsContext: context, deadline: .after(seconds: timeout),
                                        interrupt: configuration.interruptDescriptor)
        connectionsOpened += 1
        return connection
    }

    private func exchange(_ request: HTTPRequest, on connection: Connection, key: ConnectionKey,
                          deadline: Deadline, firstByteDeadline: Deadline?) throws(HTTPError) -> HTTPResponse {
        var parser = ResponseParser(limits: configuration.limits, isHeadRequest: request.method == "HEAD")
        let parsed: ParsedResponse
        do throws(HTTPError) {
            try connection.send(requestBytes, deadline: deadline)
            parsed = try connection.readResponse(with: &parser, deadline: deadline,
                                                 firstByteDeadline: firstByteDeadline.map { min($0, deadline) })
        } catch {
            connection.close()
            throw error
        }
        if parsed.keepAlive && !request.headers.contains(token: "close", in: "Connection") && !connection.hasLeftoverBytes {
            idle.removeValue(forKey: key)?.close()
            idle[key] = connection
        } else {
            connection.close()
        }
        return parsed.response
    }

    /// Writes the request into the reused `requestBytes` buffer.
    private func serialize(_ request: HTTPRequest) throws(HTTPError) {
        guard !request.method.isEmpty, request.method.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }) else {
            throw HTTPError(.invalidRequest, "invalid method \"\(request.method)\"")
        }
        // HTTPURL checks both, but nothing that could split a line is ever written,
        // whatever a future change to it lets through.
        guard !request.url.target.isEmpty, request.url.target.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else {
            throw HTTPError(.invalidRequest, "the request target has a character that cannot be sent")
        }
        guard request.url.hostHeader.utf8.allSatisfy(isFieldValueByte) else {
            throw HTTPError(.invalidRequest, "the Host header has a character that cannot be sent")
        }
        requestBytes.removeAll(keepingCapacity: true)
        append(request.method)
        append(" ")
        append(request.url.target)
        append(" HTTP/1.1\r\nHost: ")
        append(request.url.hostHeader)
        append("\r\n")
        for (name, value) in request.headers {
            if equalsIgnoringCase(name, "Host") || equalsIgnoringCase(name, "Content-Length")
                || equalsIgnoringCase(name, "Transfer-Encoding") {
                throw HTTPError(.invalidRequest, "the client writes \(name) itself")
            }
            guard !name.isEmpty, name.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }),
                  value.utf8.allSatisfy(isFieldValueByte)
            else {
                throw HTTPError(.invalidRequest, "header \(name) has a character that cannot be sent")
            }
            append(name)
            append(": ")
            append(value)
            append("\r\n")
        }
        let hasBodySemantics = ["POST", "PUT", "PATCH"].contains(request.method)
        if request.body != nil || hasBodySemantics {
            append("Content-Length: \(request.body?.count ?? 0)\r\n")
        }
        append("\r\n")
        if let body = request.body {
            requestBytes.append(contentsOf: body)
        }
    }

    private func append(_ text: String) {
        requestBytes.append(contentsOf: text.utf8)
    }
}

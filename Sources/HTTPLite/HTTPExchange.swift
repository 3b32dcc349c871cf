#if canImport(Glibc)
import Glibc
#else
import CSystem
#endif

/// What an exchange waits for before it can go on.
public struct PollInterest: Equatable, Sendable {
    /// The socket to poll.
    public let descriptor: Int32
    /// The poll(2) events to wait for: `POLLIN` or `POLLOUT`.
    public let events: Int16

    /// A descriptor with events: asked for, or (from `waitForAny`) what poll reported.
    public init(descriptor: Int32, events: Int16) {
        self.descriptor = descriptor
        self.events = events
    }
}

/// One request and its response, stepped without blocking (connect → TLS handshake → send → receive).
///
/// `HTTPClient.start(_:)` makes one. A driver calls `advance()` (at once, and again whenever
/// `interest` is ready or `wakeAt` has come) until it returns the response or throws; many
/// exchanges, on different clients, can share one `poll`. `HTTPClient.execute(_:)` is the
/// blocking driver. A client runs one exchange at a time (starting a second before the first
/// finished or was cancelled traps); use one client per concurrent exchange. Not thread-safe.
public final class HTTPExchange {
    /// Where the exchange is. The payloads are plain values, so that reading the state
    /// costs no reference counting; the socket or connection is in `connection`.
    private enum State {
        /// A TCP connect of `socket` to `addresses[index]` is in progress.
        case connecting(Socket, index: Int)
        /// The TLS handshake waits for `events`.
        case handshaking(events: Int16)
        /// The request is written up to `offset`; the rest waits for `events`.
        case sending(offset: Int, events: Int16)
        /// The response is not complete; the rest waits for `events`.
        case receiving(events: Int16)
        /// Answered, failed or cancelled.
        case finished
    }

    private let client: HTTPClient
    /// Scheme, host and port: the pool's key, and where a new connection goes.
    private let key: HTTPClient.ConnectionKey
    private let hostIsIP: Bool
    private let isIdempotent: Bool
    private let asksToClose: Bool
    private let isHeadRequest: Bool
    private let timeout: Double
    private let connectTimeout: Double
    /// The serialized request, the client's reused buffer until the exchange ends.
    private var bytes: [UInt8]
    private var parser: ResponseParser
    private var state = State.finished
    /// The connection while handshaking, sending or receiving; nil otherwise.
    private var connection: Connection?
    /// Whether `finish()` ran: the buffer is back with the client, which may start another exchange.
    private var hasEnded = false
    private var tlsContext: TLSContext?
    private var addresses: [SocketAddress] = []
    private var connectDeadline = Deadline(nanoseconds: 0)
    /// Sending the request and receiving its response end here; set once connected
    /// (at the start for a kept-alive connection, and kept for the new one after it).
    private var requestDeadline: Deadline?
    /// The first byte of the answer on a kept-alive connection must come by this.
    private var firstByteDeadline: Deadline?
    /// Whether the request goes on a kept-alive connection, so that a close or silence
    /// before any answer may send it once more on a new one.
    private var isOnReusedConnection = false

    init(client: HTTPClient, request: borrowing HTTPRequest, bytes: [UInt8]) {
        self.client = client
        key = HTTPClient.ConnectionKey(scheme: request.url.scheme, host: request.url.host, port: request.url.port)
        hostIsIP = request.url.hostIsIP
        isIdempotent = request.isIdempotent
        asksToClose = request.headers.contains(token: "close", in: "Connection")
        isHeadRequest = request.method == "HEAD"
        timeout = request.timeout ?? client.configuration.timeout
        connectTimeout = request.connectTimeout ?? client.configuration.connectTimeout
        self.bytes = bytes
        parser = ResponseParser(limits: client.configuration.limits, isHeadRequest: isHeadRequest)
    }

    deinit {
        cancel()
    }

    /// Takes a kept-alive connection or starts connecting a new one.
    func begin() throws(HTTPError) {
        if let connection = client.takeIdleConnection(for: key) {
            if !isIdempotent && connection.peerHasClosed {
                // A request with effects is never sent where it may be lost.
                connection.close()
            } else {
                requestDeadline = .after(seconds: timeout)
                if isIdempotent, let reused = client.configuration.reusedConnectionTimeout {
                    firstByteDeadline = .after(seconds: min(reused, timeout / 3))
                }
                isOnReusedConnection = true
                connection.beginRequest()
                self.connection = connection
                state = .sending(offset: 0, events: Int16(POLLOUT))
                return
            }
        }
        do throws(HTTPError) {
            try beginConnecting()
        } catch {
            finish()
            throw error
        }
    }

    /// The socket and events to wait for before calling `advance()` again; nil once finished
    /// or cancelled. Never nil while the exchange is unfinished: when OpenSSL holds bytes
    /// that no poll would announce, `advance()` reads them before it returns.
    public var interest: PollInterest? {
        if case .finished = state { return nil }
        return waitingFor.interest
    }

    /// Monotonic seconds (the clock of `monotonicSeconds()`) by which `advance()` must be called
    /// even if the socket is not ready: the connect deadline while connecting, then the earliest
    /// of the request deadline and, on a kept-alive connection, the first-byte deadline.
    /// Infinity once finished or cancelled.
    public var wakeAt: Double {
        if case .finished = state { return .infinity }
        return Double(waitingFor.deadline.nanoseconds) / 1e9
    }

    /// `interest` and `wakeAt` (as a deadline) of an unfinished exchange, for the blocking driver.
    var waitingFor: (interest: PollInterest, deadline: Deadline) {
        switch state {
        case .connecting(let socket, _):
            return (PollInterest(descriptor: socket.descriptor, events: Int16(POLLOUT)), connectDeadline)
        case .handshaking(let events):
            return (PollInterest(descriptor: descriptor, events: events), connectDeadline)
        case .sending(_, let events):
            return (PollInterest(descriptor: descriptor, events: events), sendDeadline)
        case .receiving(let events):
            return (PollInterest(descriptor: descriptor, events: events), receiveDeadline)
        case .finished:
            preconditionFailure("a finished exchange waits for nothing")
        }
    }

    /// Does all that can be done now without blocking.
    ///
    /// Returns the whole response (any status) once it is complete; the connection then goes
    /// back to the client's idle pool when it may be kept alive. Returns nil when the exchange
    /// must wait for `interest` or `wakeAt`. Throws `HTTPError` for anything that kept a response
    /// from arriving intact (`.connectTimeout`, `.writeTimeout` and `.readTimeout` when a deadline
    /// passed, `.refused`, `.closedEarly`, `.tls`, `.certificateRejected`, `.malformed`, ...),
    /// having closed the connection. Calling it again after it returned a response or threw,
    /// or after `cancel()`, is a bug and traps.
    public func advance() throws(HTTPError) -> HTTPResponse? {
        while true {
            do throws(HTTPError) {
                return try proceed()
            } catch {
                try recover(from: error)
            }
        }
    }

    /// Abandons the exchange and closes its connection (a TLS one after a close_notify that is
    /// not waited for), which never goes back to the pool. Idempotent; does nothing once finished.
    public func cancel() {
        abandon()
        finish()
    }

    /// Steps the state machine until it must wait or is done.
    private func proceed() throws(HTTPError) -> HTTPResponse? {
        while true {
            switch state {
            case .connecting(let socket, let index):
                let isConnected: Bool
                do throws(HTTPError) {
                    isConnected = try socket.connectOutcome(to: addresses[index])
                } catch where error.code == .refused || error.code == .system {
                    state = .finished
                    socket.close()
                    try connectToNext(from: index + 1, lastError: error)
                    continue
                }
                guard isConnected else {
                    if connectDeadline.hasPassed {
                        throw HTTPError(.connectTimeout, "connecting to \(addresses[index]) timed out")
                    }
                    return nil
                }
                state = .finished  // the socket now belongs to the connection
                try connected(socket)
            case .handshaking:
                if let events = try current.handshake() {
                    state = .handshaking(events: events)
                    if connectDeadline.hasPassed { throw HTTPError(.connectTimeout, "the TLS handshake timed out") }
                    return nil
                }
                established()
            case .sending(let offset, _):
                let connection = current
                switch try connection.send(bytes[offset...]) {
                case .transferred(let count) where offset + count < bytes.count:
                    state = .sending(offset: offset + count, events: Int16(POLLOUT))
                case .transferred:
                    state = .receiving(events: Int16(POLLIN))
                    // Nothing can be there yet right after a request, so the first read waits
                    // for the poll, unless OpenSSL already holds bytes that no poll would announce.
                    if !connection.hasBufferedBytes { return nil }
                case .wouldBlock(let events):
                    state = .sending(offset: offset, events: events)
                    if sendDeadline.hasPassed { throw HTTPError(.writeTimeout, "sending the request timed out") }
                    return nil
                }
            case .receiving:
                let connection = current
                switch try connection.receive(with: &parser) {
                case .response(let parsed):
                    state = .finished
                    self.connection = nil
                    if parsed.keepAlive && !asksToClose && !connection.hasLeftoverBytes {
                        client.keepIdle(connection, for: key)
                    } else {
                        connection.close()
                    }
                    finish()
                    return parsed.response
                case .wouldBlock(let events):
                    state = .receiving(events: events)
                    if receiveDeadline.hasPassed {
                        throw HTTPError(.readTimeout, connection.receivedNothing
                            ? "no response before the deadline" : "the response did not complete before the deadline")
                    }
                    return nil
                }
            case .finished:
                preconditionFailure("advance() after the exchange answered, failed or was cancelled")
            }
        }
    }

    /// After `error`: sends the request once more on a new connection when a kept-alive one
    /// closed or went silent before answering; otherwise ends the exchange and throws `error`.
    private func recover(from error: HTTPError) throws(HTTPError) {
        if let connection = abandon(), isOnReusedConnection, isIdempotent, connection.receivedNothing,
           error.code == .closedEarly || (error.code == .readTimeout && !sendDeadline.hasPassed) {
            // The server had closed the idle connection, or the connection went silent: the
            // request was not answered. Send it once more, on a new connection, within the same deadline.
            isOnReusedConnection = false
            firstByteDeadline = nil
            parser = ResponseParser(limits: client.configuration.limits, isHeadRequest: isHeadRequest)
            do throws(HTTPError) {
                try beginConnecting()
                return
            } catch {
                finish()
                throw error
            }
        }
        finish()
        throw error
    }

    /// Resolves the host (once) and starts connecting to its first address that does not refuse at once.
    private func beginConnecting() throws(HTTPError) {
        if key.scheme == .https { tlsContext = try client.sharedTLSContext() }
        if addresses.isEmpty { addresses = try SocketAddress.resolve(host: key.host, port: key.port) }
        connectDeadline = .after(seconds: connectTimeout)
        try connectToNext(from: 0, lastError: HTTPError(.refused, "no address to connect to"))
    }

    /// Starts connecting to the first of `addresses[index...]` that does not refuse at once;
    /// throws the last refusal when none is left. The state must be `.finished`.
    private func connectToNext(from index: Int, lastError: HTTPError) throws(HTTPError) {
        var lastError = lastError
        for index in index..<addresses.count {
            let started: (socket: Socket, connected: Bool)
            do throws(HTTPError) {
                started = try Socket.startConnecting(to: addresses[index])
            } catch where error.code == .refused || error.code == .system {
                lastError = error
                continue
            }
            if started.connected {
                try connected(started.socket)
            } else {
                state = .connecting(started.socket, index: index)
            }
            return
        }
        throw lastError
    }

    /// The TCP connection is up: the TLS handshake comes next, or for plain HTTP the request.
    private func connected(_ socket: Socket) throws(HTTPError) {
        connection = try Connection(socket: socket, host: key.host, hostIsIP: hostIsIP, tlsContext: tlsContext)
        if tlsContext == nil {
            established()
        } else {
            state = .handshaking(events: Int16(POLLOUT))
        }
    }

    private func established() {
        client.connectionsOpened += 1
        if requestDeadline == nil { requestDeadline = .after(seconds: timeout) }
        current.beginRequest()
        state = .sending(offset: 0, events: Int16(POLLOUT))
    }

    /// The connection of the handshaking, sending or receiving state.
    private var current: Connection {
        guard let connection else { preconditionFailure("no connection while \(state)") }
        return connection
    }

    /// The socket of the handshaking, sending or receiving state.
    private var descriptor: Int32 { current.socket.descriptor }

    private var sendDeadline: Deadline {
        guard let requestDeadline else { preconditionFailure("sending before the request deadline was set") }
        return requestDeadline
    }

    private var receiveDeadline: Deadline {
        guard let firstByteDeadline, current.receivedNothing else { return sendDeadline }
        return min(firstByteDeadline, sendDeadline)
    }

    /// Closes whatever the exchange holds and makes it `.finished`: the connection, if there was one.
    @discardableResult
    private func abandon() -> Connection? {
        let abandoned = state
        let connection = self.connection
        state = .finished
        self.connection = nil
        switch abandoned {
        case .connecting(let socket, _):
            socket.close()
        case .handshaking, .sending, .receiving:
            connection?.close()
        case .finished:
            break
        }
        return connection
    }

    /// Hands the request buffer back to the client, which may then start another exchange.
    private func finish() {
        guard !hasEnded else { return }
        hasEnded = true
        client.exchangeEnded(returning: bytes)
        bytes = []
    }
}

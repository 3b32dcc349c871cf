/// One open connection, plain or TLS, with its receive buffer. Every operation
/// is tried once without blocking; `HTTPExchange` steps them.
///
/// The buffer is reused from response to response; the parser reads it in
/// place and only the body is copied out, once.
final class Connection {
    let socket: Socket
    private let tls: TLSSession?
    private var storage: [UInt8] = []
    private var start = 0
    private var end = 0
    /// Whether any byte arrived since the request was sent: if none did, a
    /// closed reused connection never saw the request.
    private(set) var receivedNothing = true
    private var isClosed = false

    /// Takes a connected socket; for https sets up (but does not start) the TLS session,
    /// verifying `host` (the URL's) or the configured server name. Closes the socket when that fails.
    init(socket: Socket, host: String, hostIsIP: Bool, tlsContext: TLSContext?) throws(HTTPError) {
        self.socket = socket
        if let tlsContext {
            do throws(HTTPError) {
                let name = tlsContext.serverName ?? host
                let nameIsIP = tlsContext.serverName.map { SocketAddress.isIPv4($0) || SocketAddress.isIPv6($0) }
                    ?? (hostIsIP || host.contains(":"))
                tls = try TLSSession(context: tlsContext, socket: socket, host: name, hostIsIP: nameIsIP)
            } catch {
                socket.close()
                throw error
            }
        } else {
            tls = nil
        }
    }

    deinit {
        self.close()
    }

    /// Takes the TLS handshake as far as it goes now: nil when done (always for plain HTTP),
    /// else the poll events to wait for.
    func handshake() throws(HTTPError) -> Int16? {
        try tls?.handshake()
    }

    /// Whether the peer closed this idle connection or sent something unasked.
    var peerHasClosed: Bool { hasLeftoverBytes || socket.hasUnexpectedInput }

    /// Whether OpenSSL holds decrypted bytes that no poll would announce.
    var hasBufferedBytes: Bool { tls?.hasBufferedBytes ?? false }

    /// Marks the start of a new request: no byte of its response has arrived.
    func beginRequest() {
        receivedNothing = true
    }

    /// Writes what the connection takes of `bytes` now.
    func send(_ bytes: ArraySlice<UInt8>) throws(HTTPError) -> Socket.Progress {
        if let tls { return try tls.send(bytes) }
        return try socket.send(bytes)
    }

    /// What `receive` got to.
    enum Received {
        case response(ParsedResponse)
        /// The response is not complete; wait for these poll events.
        case wouldBlock(events: Int16)
    }

    /// Reads and parses until `parser` has a whole response or nothing more is there;
    /// throws on a malformed response or a close before its end.
    func receive(with parser: inout ResponseParser) throws(HTTPError) -> Received {
        var atEndOfStream = false
        while true {
            if end > start || atEndOfStream {
                switch parser.parse(storage[start..<end], atEndOfStream: atEndOfStream) {
                case .done(let response, let consumed):
                    consume(consumed)
                    return .response(response)
                case .malformed(let error):
                    throw error
                case .needMoreBytes where atEndOfStream:
                    throw HTTPError(.closedEarly, "the peer closed the connection before the response ended")
                case .needMoreBytes:
                    break
                }
            }
            switch try fill() {
            case .transferred(let count):
                atEndOfStream = count == 0
            case .wouldBlock(let events):
                return .wouldBlock(events: events)
            }
        }
    }

    /// Whether bytes beyond the last response are waiting (the peer broke the exchange).
    var hasLeftoverBytes: Bool { start != end }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        tls?.shutdown()
        socket.close()
    }

    private func consume(_ count: Int) {
        start += count
        if start == end {
            start = 0
            end = 0
        }
    }

    /// Reads once into the buffer's free space.
    private func fill() throws(HTTPError) -> Socket.Progress {
        makeRoom()
        // Array's closures rethrow untyped errors, so the closure hands back a Result.
        let progress = try storage.withUnsafeMutableBytes { raw in
            Result { () throws(HTTPError) -> Socket.Progress in
                let free = UnsafeMutableRawBufferPointer(rebasing: raw[end...])
                if let tls { return try tls.receive(into: free) }
                return try socket.receive(into: free)
            }
        }.get()
        if case .transferred(let count) = progress {
            if count > 0 { receivedNothing = false }
            end += count
        }
        return progress
    }

    /// Keeps at least 16 KiB free after `end`, moving unread bytes to the front before growing.
    private func makeRoom() {
        let wanted = 16 * 1024
        guard storage.count - end < wanted else { return }
        if start > 0 {
            storage.withUnsafeMutableBytes { raw in
                raw.baseAddress!.copyMemory(from: raw.baseAddress! + start, byteCount: end - start)
            }
            end -= start
            start = 0
        }
        if storage.count - end < wanted {
            storage.append(contentsOf: repeatElement(0, count: max(wanted, storage.count)))
        }
    }
}

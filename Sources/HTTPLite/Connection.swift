import Glibc

/// One open connection, plain or TLS, with its receive buffer.
///
/// The buffer is reused from response to response; the parser reads it in
/// place and only the body is copied out, once.
final class Connection {
    private let socket: Socket
    private let tls: TLSSession?
    private var storage: [UInt8] = []
    private var start = 0
    private var end = 0
    /// Whether any byte arrived since the request was sent: if none did, a
    /// closed reused connection never saw the request.
    private(set) var receivedNothing = true
    private var isClosed = false

    /// Connects (and for https completes the TLS handshake) before `deadline`.
    init(to url: HTTPURL, tlsContext: TLSContext?, deadline: Deadline, interrupt: Int32) throws(HTTPError) {
        let addresses = try SocketAddress.resolve(host: url.host, port: url.port)
        socket = try Socket.connect(to: addresses, deadline: deadline, interrupt: interrupt)
        if let tlsContext {
            do throws(HTTPError) {
                let name = tlsContext.serverName ?? url.host
                let nameIsIP = tlsContext.serverName.map { SocketAddress.isIPv4($0) || SocketAddress.isIPv6($0) }
                    ?? (url.hostIsIP || url.host.contains(":"))
                tls = try TLSSession(context: tlsContext, socket: socket, host: name, hostIsIP: nameIsIP, deadline: deadline)
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

    /// Whether the peer closed this idle connection or sent something unasked.
    var peerHasClosed: Bool { hasLeftoverBytes || socket.hasUnexpectedInput }

    func send(_ bytes: [UInt8], deadline: Deadline) throws(HTTPError) {
        receivedNothing = true
        if let tls {
            try tls.send(bytes[...], deadline: deadline)
        } else {
            try socket.send(bytes[...], deadline: deadline)
        }
    }

    /// Reads until `parser` has a whole response; throws on a malformed one, a timeout or a close.
    /// With `firstByteDeadline`, a response none of whose bytes arrived by then is a `.readTimeout`.
    func readResponse(with parser: inout ResponseParser, deadline: Deadline,
                      firstByteDeadline: Deadline? = nil) throws(HTTPError) -> ParsedResponse {
        // Nothing can be there yet right after a request, so wait before the first read.
        var waitFirst = true
        var atEndOfStream = false
        while true {
            if end > start || atEndOfStream {
                switch parser.parse(storage[start..<end], atEndOfStream: atEndOfStream) {
                case .done(let response, let consumed):
                    consume(consumed)
                    return response
                case .malformed(let error):
                    throw error
                case .needMoreBytes where atEndOfStream:
                    throw HTTPError(.closedEarly, "the peer closed the connection before the response ended")
                case .needMoreBytes:
                    break
                }
            }
            let wait = receivedNothing ? firstByteDeadline ?? deadline : deadline
            atEndOfStream = try fill(deadline: wait, waitFirst: waitFirst) == 0
            waitFirst = false
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

    /// Reads once into the buffer's free space: the count, 0 at end of stream.
    private func fill(deadline: Deadline, waitFirst: Bool) throws(HTTPError) -> Int {
        makeRoom()
        if waitFirst && !(tls?.hasBufferedBytes ?? false) {
            guard try socket.wait(for: Int16(POLLIN), until: deadline) else {
                throw HTTPError(.readTimeout, "no response before the deadline")
            }
        }
        while true {
            // Array's closures rethrow untyped errors, so the closure hands back a Result.
            let received = try storage.withUnsafeMutableBytes { raw in
                Result { () throws(HTTPError) -> Int? in
                    let free = UnsafeMutableRawBufferPointer(rebasing: raw[end...])
                    // Not `tls?.receive(...) ?? socket.receive(...)`: a TLS "nothing yet" is nil
                    // too, and the socket must then be left to OpenSSL.
                    if let tls { return try tls.receive(into: free) }
                    return try socket.receive(into: free)
                }
            }.get()
            if let received {
                if received > 0 { receivedNothing = false }
                end += received
                return received
            }
            guard try socket.wait(for: tls?.pendingEvents ?? Int16(POLLIN), until: deadline) else {
                throw HTTPError(.readTimeout, "the response did not complete before the deadline")
            }
        }
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

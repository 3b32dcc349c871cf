#if canImport(Glibc)
import Glibc
#else
import CSystem
#endif

/// A small HTTP/1.1 server for health and metrics endpoints that never blocks:
/// its owner polls `interests` (with every other descriptor it waits on, until
/// `wakeAt` at the latest) and calls `advance(ready:now:)` with what poll reported.
///
/// GET and HEAD only: `handler` maps a path (the target without its query) to
/// a response, and the server adds 405 (with `Allow`) for other methods and
/// 400, 413, 414, 431 or 505 for heads `RequestParser` refuses, then closes.
/// HEAD gets GET's headers without the body. Keep-alive as RFC 9112 9.3 says;
/// pipelined requests are answered in order.
///
/// Bounds, so that no client can hold the loop or the memory: each socket is
/// non-blocking; one advance reads at most 32 KiB per connection and accepts
/// at most `maxConnections` connections; a head has `headTimeout` from the
/// connection's start (or its first byte after an idle wait), an idle
/// connection `idleTimeout`, a response `writeTimeout`; the read buffer never
/// holds more than the head limit and one read. At `maxConnections`, a new
/// connection is accepted and the connection waiting longest (for a head, for
/// its next request, or for a response to leave) is closed: a slow-loris
/// holding every slot loses its oldest to each newcomer (a connection already
/// answered and only lingering goes first), and a normal client,
/// which sends its request at once, is answered. When accept fails for want
/// of descriptors or memory, the listener rests for a second rather than spin.
public final class HTTPServer {
    private let listener: Int32
    /// The port listened on (the kernel's choice when 0 was asked for).
    public let port: Int
    /// Where it listens, e.g. `[::]:9090` (every IPv6 and IPv4 address) or `127.0.0.1:9090`.
    public let address: String
    private let limits: ServerLimits
    private let handler: (String) -> HTTPServerResponse
    private var connections: [ServerConnection] = []
    private var acceptPausedUntil: Double?
    private var isClosed = false
    /// Connections closed to make room for a newer one, since the start.
    public private(set) var evictions = 0
    private static let readChunk = 4096
    private static let readsPerAdvance = 8

    /// Listens on `address` (a numeric IPv4 or IPv6 address; nil: every address, IPv6
    /// and IPv4 on one dual-stack socket, or IPv4 alone where the kernel has no IPv6)
    /// and `port` (0: any free port, see `port`).
    /// Throws `.badAddress` for an address that is not numeric or a port out of range,
    /// `.system` when the socket cannot be made, bound (the port is taken) or listened on.
    public init(address: String? = nil, port: Int, limits: ServerLimits = ServerLimits(),
                handler: @escaping (String) -> HTTPServerResponse) throws(HTTPError) {
        precondition(limits.maxConnections >= 1, "maxConnections \(limits.maxConnections)")
        guard (0...65535).contains(port) else { throw HTTPError(.badAddress, "port \(port) is not 0 to 65535") }
        let bound: (descriptor: Int32, address: SocketAddress)
        if let address {
            guard let socketAddress = SocketAddress.ipv4(address, port: port) ?? SocketAddress.ipv6(address, port: port) else {
                throw HTTPError(.badAddress, "\(address.escapingControlCharacters()) is not a numeric IPv4 or IPv6 address")
            }
            bound = try Self.listen(on: socketAddress, dualStack: false)
        } else {
            do throws(HTTPError) {
                bound = try Self.listen(on: SocketAddress.ipv6("::", port: port)!, dualStack: true)
            } catch where error.code == .refused {
                bound = try Self.listen(on: SocketAddress.ipv4("0.0.0.0", port: port)!, dualStack: false)
            }
        }
        listener = bound.descriptor
        do {
            self.port = try System.boundPort(listener)
        } catch {
            System.close(listener)
            throw HTTPError(error)
        }
        let shown = bound.address.description
        self.address = String(shown[shown.startIndex..<(shown.lastIndex(of: ":") ?? shown.endIndex)]) + ":\(self.port)"
        self.limits = limits
        self.handler = handler
    }

    deinit {
        self.close()
    }

    /// A listening socket on `address`; `.refused` when the kernel has no such family
    /// or address (the caller may fall back to IPv4).
    private static func listen(on address: SocketAddress, dualStack: Bool) throws(HTTPError) -> (descriptor: Int32, address: SocketAddress) {
        let descriptor: Int32
        do {
            descriptor = try System.socket(family: address.family)
        } catch {
            throw listenError(error, address)
        }
        do {
            // A restarted watcher must not wait out TIME_WAIT to bind its port again.
            try System.setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, 1)
            if address.family == AF_INET6 {
                try System.setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, dualStack ? 0 : 1)
            }
            try System.bind(descriptor, to: address)
            try System.listen(descriptor, backlog: 128)
        } catch {
            System.close(descriptor)
            throw listenError(error, address)
        }
        return (descriptor, address)
    }

    private static func listenError(_ error: SystemError, _ address: SocketAddress) -> HTTPError {
        switch error.errnoCode ?? 0 {
        case EAFNOSUPPORT, EADDRNOTAVAIL:
            return HTTPError(.refused, "listening on \(address): \(error.reason)")
        default:
            return HTTPError(.system, error.described(as: "\(error.call) \(address)"))
        }
    }

    /// What to poll now: the listener (unless full of descriptors) and each connection.
    public var interests: [PollInterest] {
        guard !isClosed else { return [] }
        var list: [PollInterest] = []
        list.reserveCapacity(connections.count + 1)
        if acceptPausedUntil == nil { list.append(PollInterest(descriptor: listener, events: pollIn)) }
        for connection in connections {
            if let events = connection.events { list.append(PollInterest(descriptor: connection.descriptor, events: events)) }
        }
        return list
    }

    /// The earliest time (monotonic seconds, as `monotonicSeconds()`) at which
    /// `advance` has something to do without any descriptor being ready; nil for none.
    public var wakeAt: Double? {
        var earliest = acceptPausedUntil
        for connection in connections {
            if let deadline = connection.deadline { earliest = min(earliest ?? deadline, deadline) }
        }
        return earliest
    }

    /// How many connections are open.
    public var connectionCount: Int { connections.count }

    /// Does what `ready` (descriptors with the events poll reported; others are
    /// ignored) and the clock allow, without blocking: accepts, reads, answers,
    /// writes, closes what timed out.
    public func advance(ready: [PollInterest], now: Double) {
        guard !isClosed else { return }
        if let until = acceptPausedUntil, now >= until { acceptPausedUntil = nil }
        for entry in ready where entry.events != 0 {
            if entry.descriptor == listener {
                if acceptPausedUntil == nil { acceptWaiting(now: now) }
            } else {
                serve(entry.descriptor, now: now)
            }
        }
        var index = 0
        while index < connections.count {
            if connections[index].timePassed(now: now) == .close {
                closeConnection(at: index)
            } else {
                index += 1
            }
        }
    }

    /// Closes the listener and every connection; `interests` is empty afterwards.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        System.close(listener)
        while !connections.isEmpty { closeConnection(at: connections.count - 1) }
    }

    private func acceptWaiting(now: Double) {
        for _ in 0..<limits.maxConnections {
            let descriptor: Int32?
            do {
                descriptor = try System.accept(listener)
            } catch {
                switch error.errnoCode ?? 0 {
                case ECONNABORTED, EPROTO, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH:
                    // That connection failed before it was taken (accept(2), "Error handling"); take the next.
                    continue
                default:
                    // EMFILE, ENFILE, ENOBUFS, ENOMEM: the listener stays readable, so
                    // polling it again at once would spin.
                    acceptPausedUntil = now + 1
                    return
                }
            }
            guard let descriptor else { return }
            if connections.count >= limits.maxConnections, let oldest = connections.indices.min(by: {
                (connections[$0].isLingering ? 0 : 1, connections[$0].waitingSince)
                    < (connections[$1].isLingering ? 0 : 1, connections[$1].waitingSince)
            }) {
                closeConnection(at: oldest)
                evictions += 1
            }
            connections.append(ServerConnection(descriptor: descriptor, now: now, limits: limits,
                                                date: { httpDate(System.wallClock().seconds) }, handler: handler))
            // The request often arrives with the connection: answer it without another poll.
            serve(descriptor, now: now)
        }
    }

    /// Carries out the connection's actions until it would block.
    private func serve(_ descriptor: Int32, now: Double) {
        guard let index = connections.firstIndex(where: { $0.descriptor == descriptor }) else { return }
        var action: ServerConnection.Action
        switch connections[index].state {
        case .reading, .lingering: action = .read
        case .writing: action = .write
        case .closed: return
        }
        var reads = 0
        while true {
            switch action {
            case .read:
                guard reads < Self.readsPerAdvance else { return }
                reads += 1
                var chunk = [UInt8](repeating: 0, count: Self.readChunk)
                let count: Int?
                do {
                    // Array's closures rethrow untyped errors, so the closure hands back a Result.
                    count = try chunk.withUnsafeMutableBytes { raw in
                        Result { () throws(SystemError) -> Int? in try System.recv(descriptor, into: raw) }
                    }.get()
                } catch {
                    return closeConnection(at: index)
                }
                guard let count else { return }
                action = count == 0
                    ? connections[index].peerClosed(now: now)
                    : connections[index].received(chunk[0..<count], now: now)
            case .write:
                let written: Int?
                do {
                    written = try connections[index].pendingOutput.withUnsafeBytes { raw in
                        Result { () throws(SystemError) -> Int? in try System.send(descriptor, raw) }
                    }.get()
                } catch {
                    return closeConnection(at: index)
                }
                guard let written else { return }
                action = connections[index].sent(written, now: now)
            case .shutDownWritesAndLinger:
                // ENOTCONN: the peer is gone already; the linger read sees that.
                try? System.shutdownWrites(descriptor)
                action = .read
            case .close:
                return closeConnection(at: index)
            }
        }
    }

    private func closeConnection(at index: Int) {
        connections[index].closed()
        System.close(connections[index].descriptor)
        connections.remove(at: index)
    }
}

#if canImport(Glibc)
import Glibc
#else
import CSystem
#endif

/// A non-blocking TCP socket. Every operation is tried once and says when it
/// would block; the caller (an `HTTPExchange`) decides when to try again.
///
/// Its system calls go through `System`; this file turns their errors into `HTTPError`s.
struct Socket {
    let descriptor: Int32

    /// What one non-blocking read or write did.
    enum Progress {
        /// This many bytes moved (0 for a read: the peer closed).
        case transferred(Int)
        /// Nothing moved; wait for these poll events.
        case wouldBlock(events: Int16)
    }

    /// Opens a socket and starts connecting it to `address`: the socket, and whether it is
    /// already connected (otherwise wait for POLLOUT and ask `connectOutcome`).
    static func startConnecting(to address: SocketAddress) throws(HTTPError) -> (socket: Socket, connected: Bool) {
        let descriptor: Int32
        do {
            descriptor = try System.socket(family: address.family)
        } catch {
            throw HTTPError(error)
        }
        let socket = Socket(descriptor: descriptor)
        do throws(HTTPError) {
            do {
                // A request goes out in one write; Nagle would only delay it.
                try System.setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            } catch {
                throw HTTPError(error)
            }
            do {
                return (socket, try System.connect(descriptor, to: address))
            } catch {
                throw connectError(error, address)
            }
        } catch {
            socket.close()
            throw error
        }
    }

    /// Whether a connect started by `startConnecting` has completed (false: still in progress);
    /// throws its failure.
    func connectOutcome(to address: SocketAddress) throws(HTTPError) -> Bool {
        guard readyEvents(Int16(POLLOUT)) != 0 else { return false }
        let pending: Int32
        do {
            pending = try System.getsockopt(descriptor, SOL_SOCKET, SO_ERROR)
        } catch {
            throw HTTPError(error)
        }
        if pending != 0 { throw connectError(SystemError("connect", errno: pending), address) }
        return true
    }

    /// Waits until `interest` is ready, `interrupt` (-1 for none) is readable or `deadline`
    /// passes, whichever comes first. Throws `.interrupted` for the interrupt descriptor.
    /// The blocking driver's one wait: what became ready is found out by trying again.
    static func wait(for interest: PollInterest, interrupt: Int32, until deadline: Deadline) throws(HTTPError) {
        var entries = (pollfd(fd: interest.descriptor, events: interest.events, revents: 0),
                       pollfd(fd: interrupt, events: Int16(POLLIN), revents: 0))
        let count = interrupt >= 0 ? 2 : 1
        do {
            _ = try withUnsafeMutableBytes(of: &entries) { (raw) throws(SystemError) -> Int in
                let list = UnsafeMutableBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: pollfd.self),
                                                      count: count)
                return try System.poll(list, timeout: deadline.remainingMilliseconds)
            }
        } catch {
            throw HTTPError(error)
        }
        if entries.1.revents != 0 { throw HTTPError(.interrupted, "interrupted while waiting") }
    }

    /// Writes what the socket takes of `bytes` now.
    func send(_ bytes: ArraySlice<UInt8>) throws(HTTPError) -> Progress {
        let written: Int?
        do {
            written = try bytes.withUnsafeBytes { raw in
                Result { () throws(SystemError) -> Int? in try System.send(descriptor, raw) }
            }.get()
        } catch where error.errnoCode == EPIPE || error.errnoCode == ECONNRESET {
            throw HTTPError(.closedEarly, "the peer closed the connection while the request was sent")
        } catch {
            throw HTTPError(error)
        }
        guard let written else { return .wouldBlock(events: Int16(POLLOUT)) }
        return .transferred(written)
    }

    /// Reads what is there into `buffer`.
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws(HTTPError) -> Progress {
        let received: Int?
        do {
            received = try System.recv(descriptor, into: buffer)
        } catch where error.errnoCode == ECONNRESET {
            throw HTTPError(.closedEarly, "the peer reset the connection")
        } catch {
            throw HTTPError(error)
        }
        guard let received else { return .wouldBlock(events: Int16(POLLIN)) }
        return .transferred(received)
    }

    /// Whether the peer has closed an idle connection (or sent bytes nobody asked for).
    var hasUnexpectedInput: Bool { readyEvents(Int16(POLLIN)) != 0 }

    /// The events of `events` (and errors, hang-ups) ready now, without waiting.
    /// A poll that fails counts as ready: the next call on the socket reports the failure.
    private func readyEvents(_ events: Int16) -> Int16 {
        var entry = pollfd(fd: descriptor, events: events, revents: 0)
        let ready = withUnsafeMutablePointer(to: &entry) { try? System.poll(.init(start: $0, count: 1), timeout: 0) }
        guard let ready else { return events }
        return ready == 0 ? 0 : entry.revents
    }

    func close() {
        System.close(descriptor)
    }
}

private func connectError(_ error: SystemError, _ address: SocketAddress) -> HTTPError {
    switch error.errnoCode ?? 0 {
    case ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL, EAFNOSUPPORT:
        return HTTPError(.refused, "connecting to \(address): \(error.reason)")
    case ETIMEDOUT:
        return HTTPError(.connectTimeout, "connecting to \(address) timed out")
    default:
        return HTTPError(.system, "connect to \(address): \(error.reason)")
    }
}

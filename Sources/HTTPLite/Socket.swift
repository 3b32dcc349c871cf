import Glibc

/// A non-blocking TCP socket whose every wait ends at a deadline.
///
/// Its system calls go through `System`; this file turns their errors into `HTTPError`s.
struct Socket {
    let descriptor: Int32
    /// A descriptor that ends every wait when it becomes readable (-1 for none),
    /// so that a signal delivered through signalfd never waits out a timeout.
    let interrupt: Int32

    /// Connects to the first of `addresses` that accepts before `deadline`.
    static func connect(to addresses: [SocketAddress], deadline: Deadline, interrupt: Int32) throws(HTTPError) -> Socket {
        var lastError = HTTPError(.refused, "no address to connect to")
        for address in addresses {
            do throws(HTTPError) {
                return try Self.connect(to: address, deadline: deadline, interrupt: interrupt)
            } catch where error.code == .refused || error.code == .system {
                lastError = error
            }
        }
        throw lastError
    }

    private static func connect(to address: SocketAddress, deadline: Deadline, interrupt: Int32) throws(HTTPError) -> Socket {
        let descriptor: Int32
        do {
            descriptor = try System.socket(family: address.family)
        } catch {
            throw HTTPError(error)
        }
        let socket = Socket(descriptor: descriptor, interrupt: interrupt)
        do throws(HTTPError) {
            do {
                // A request goes out in one write; Nagle would only delay it.
                try System.setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            } catch {
                throw HTTPError(error)
            }
            let connected: Bool
            do {
                connected = try System.connect(descriptor, to: address)
            } catch {
                throw connectError(error, address)
            }
            if !connected {
                guard try socket.wait(for: Int16(POLLOUT), until: deadline) else {
                    throw HTTPError(.connectTimeout, "connecting to \(address) timed out")
                }
                let pending: Int32
                do {
                    pending = try System.getsockopt(descriptor, SOL_SOCKET, SO_ERROR)
                } catch {
                    throw HTTPError(error)
                }
                if pending != 0 { throw connectError(SystemError("connect", errno: pending), address) }
            }
            return socket
        } catch {
            socket.close()
            throw error
        }
    }

    /// Waits until the socket is ready for `events`; false when the deadline passed first.
    /// Throws `.interrupted` when the interrupt descriptor becomes readable.
    func wait(for events: Int16, until deadline: Deadline) throws(HTTPError) -> Bool {
        while true {
            var entries = (pollfd(fd: descriptor, events: events, revents: 0),
                           pollfd(fd: interrupt, events: Int16(POLLIN), revents: 0))
            let count = interrupt >= 0 ? 2 : 1
            let ready: Int
            do {
                ready = try withUnsafeMutableBytes(of: &entries) { (raw) throws(SystemError) -> Int in
                    let list = UnsafeMutableBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: pollfd.self),
                                                          count: count)
                    return try System.poll(list, timeout: deadline.remainingMilliseconds)
                }
            } catch {
                throw HTTPError(error)
            }
            if ready > 0 {
                if entries.1.revents != 0 { throw HTTPError(.interrupted, "interrupted while waiting") }
                return true  // errors and hang-ups show in the next call
            }
            if deadline.hasPassed { return false }
        }
    }

    /// Writes all of `bytes`, waiting for room until `deadline`.
    func send(_ bytes: ArraySlice<UInt8>, deadline: Deadline) throws(HTTPError) {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let written: Int?
            do {
                written = try bytes[offset...].withUnsafeBytes { raw in
                    Result { () throws(SystemError) -> Int? in try System.send(descriptor, raw) }
                }.get()
            } catch where error.errnoCode == EPIPE || error.errnoCode == ECONNRESET {
                throw HTTPError(.closedEarly, "the peer closed the connection while the request was sent")
            } catch {
                throw HTTPError(error)
            }
            if let written {
                offset += written
            } else {
                guard try self.wait(for: Int16(POLLOUT), until: deadline) else {
                    throw HTTPError(.writeTimeout, "sending the request timed out")
                }
            }
        }
    }

    /// Reads what is there into `buffer`: the count, 0 at end of stream, nil when nothing is ready.
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws(HTTPError) -> Int? {
        do {
            return try System.recv(descriptor, into: buffer)
        } catch where error.errnoCode == ECONNRESET {
            throw HTTPError(.closedEarly, "the peer reset the connection")
        } catch {
            throw HTTPError(error)
        }
    }

    /// Whether the peer has closed an idle connection (or sent bytes nobody asked for).
    var hasUnexpectedInput: Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        // A poll that fails tells nothing good about the connection either.
        let ready = withUnsafeMutablePointer(to: &entry) { try? System.poll(.init(start: $0, count: 1), timeout: 0) }
        return ready != 0
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

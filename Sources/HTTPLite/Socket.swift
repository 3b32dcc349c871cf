import Glibc

/// A non-blocking TCP socket whose every wait ends at a deadline.
///
/// This file and TLSSession.swift are the only places that hand buffers to C.
struct Socket {
    let descriptor: Int32
    /// A descriptor that ends every wait when it becomes readable (-1 for none),
    /// so that a signal delivered through signalfd never waits out a timeout.
    let interrupt: Int32

    /// Connects to the first of `addresses` that accepts before `deadline`.
    static func connect(to addresses: [SocketAddress], deadline: Deadline, interrupt: Int32) throws -> Socket {
        var lastError = HTTPError(.refused, "no address to connect to")
        for address in addresses {
            do {
                return try connect(to: address, deadline: deadline, interrupt: interrupt)
            } catch let error as HTTPError where error.code == .refused || error.code == .system {
                lastError = error
            }
        }
        throw lastError
    }

    private static func connect(to address: SocketAddress, deadline: Deadline, interrupt: Int32) throws -> Socket {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let descriptor = Glibc.socket(address.family, type, 0)
        guard descriptor >= 0 else { throw systemError("socket") }
        let socket = Socket(descriptor: descriptor, interrupt: interrupt)
        do {
            // A request goes out in one write; Nagle would only delay it.
            var one: Int32 = 1
            setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if address.withSockaddr({ Glibc.connect(descriptor, $0, $1) }) != 0 {
                let code = errno
                guard code == EINPROGRESS else { throw connectError(code, address) }
                guard try socket.wait(for: Int16(POLLOUT), until: deadline) else {
                    throw HTTPError(.connectTimeout, "connecting to \(address) timed out")
                }
                var pending: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &pending, &length)
                if pending != 0 { throw connectError(pending, address) }
            }
            return socket
        } catch {
            socket.close()
            throw error
        }
    }

    /// Waits until the socket is ready for `events`; false when the deadline passed first.
    /// Throws `.interrupted` when the interrupt descriptor becomes readable.
    func wait(for events: Int16, until deadline: Deadline) throws -> Bool {
        while true {
            var entries = (pollfd(fd: descriptor, events: events, revents: 0),
                           pollfd(fd: interrupt, events: Int16(POLLIN), revents: 0))
            let ready = withUnsafeMutableBytes(of: &entries) { raw in
                poll(raw.baseAddress!.assumingMemoryBound(to: pollfd.self), interrupt >= 0 ? 2 : 1,
                     deadline.remainingMilliseconds)
            }
            if ready > 0 {
                if entries.1.revents != 0 { throw HTTPError(.interrupted, "interrupted while waiting") }
                return true  // errors and hang-ups show in the next call
            }
            if ready == 0 {
                if deadline.hasPassed { return false }
                continue
            }
            if errno != EINTR { throw systemError("poll") }
        }
    }

    /// Writes all of `bytes`, waiting for room until `deadline`.
    func send(_ bytes: ArraySlice<UInt8>, deadline: Deadline) throws {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let written = bytes[offset...].withUnsafeBytes { raw in
                Glibc.send(descriptor, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL))
            }
            if written >= 0 {
                offset += written
                continue
            }
            switch errno {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                guard try wait(for: Int16(POLLOUT), until: deadline) else {
                    throw HTTPError(.writeTimeout, "sending the request timed out")
                }
            case EPIPE, ECONNRESET:
                throw HTTPError(.closedEarly, "the peer closed the connection while the request was sent")
            default:
                throw systemError("send")
            }
        }
    }

    /// Reads what is there into `buffer`: the count, 0 at end of stream, nil when nothing is ready.
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        while true {
            let count = recv(descriptor, buffer.baseAddress, buffer.count, 0)
            if count >= 0 { return count }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            case ECONNRESET: throw HTTPError(.closedEarly, "the peer reset the connection")
            default: throw systemError("recv")
            }
        }
    }

    /// Whether the peer has closed an idle connection (or sent bytes nobody asked for).
    var hasUnexpectedInput: Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) != 0
    }

    func close() {
        _ = Glibc.close(descriptor)
    }
}

private func connectError(_ code: Int32, _ address: SocketAddress) -> HTTPError {
    switch code {
    case ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL, EAFNOSUPPORT:
        return HTTPError(.refused, "connecting to \(address): \(String(cString: strerror(code)))")
    case ETIMEDOUT:
        return HTTPError(.connectTimeout, "connecting to \(address) timed out")
    default:
        return HTTPError(.system, "connect to \(address): \(String(cString: strerror(code)))")
    }
}

func systemError(_ call: String, _ code: Int32 = errno) -> HTTPError {
    HTTPError(.system, "\(call): \(String(cString: strerror(code))) (errno \(code))")
}

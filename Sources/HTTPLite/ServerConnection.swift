#if canImport(Glibc)
import Glibc
#else
import CSystem
#endif

/// What the server answers for a path: status, media type and body.
public struct HTTPServerResponse: Sendable, Equatable {
    /// The status code, 100 to 999 (the server traps on others: they are the program's bug).
    public var status: Int
    /// The Content-Type field's value; no control bytes.
    public var contentType: String
    /// The body, sent for GET and left out for HEAD (its length is sent either way).
    public var body: [UInt8]

    /// A response with `body` as `contentType`.
    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    /// A plain-text response with `text` and a line break.
    public init(status: Int, text: String) {
        self.init(status: status, body: Array((text + "\n").utf8))
    }
}

/// Timeouts and caps of the server, in seconds and bytes.
public struct ServerLimits: Sendable {
    // The defaults are issue 12's: 16 connections, 8 KiB heads, 10 s for a head, 30 s idle.
    /// Connections open at once; the next one evicts the one waiting longest (see `HTTPServer`).
    public var maxConnections: Int
    /// The request head's limits (8 KiB each by default).
    public var request: RequestLimits
    /// From a connection's start, or the first byte of a later request, to the end of its head.
    public var headTimeout: Double
    /// How long a kept-alive connection may sit between requests.
    public var idleTimeout: Double
    /// How long a response may take to leave (a client that does not read).
    public var writeTimeout: Double
    /// After a response that closes the connection, how long to read and drop what
    /// the client still sends, so that closing with unread bytes does not reset
    /// the connection before the client has read the response (RFC 9112 9.6).
    public var lingerTimeout: Double

    /// The limits, each defaulting to the value above.
    public init(maxConnections: Int = 16, request: RequestLimits = RequestLimits(), headTimeout: Double = 10,
                idleTimeout: Double = 30, writeTimeout: Double = 10, lingerTimeout: Double = 2) {
        self.maxConnections = maxConnections
        self.request = request
        self.headTimeout = headTimeout
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
        self.lingerTimeout = lingerTimeout
    }
}

/// One accepted connection of the server, as a state machine with no I/O:
/// the driver (`HTTPServer`) reads, writes and closes, and tells it what
/// happened; each event returns what the connection waits for next.
struct ServerConnection {
    enum State: Equatable {
        /// Waiting for (the rest of) a request head, until `deadline`.
        case reading(deadline: Double)
        /// Writing `output` from `offset`; then reading the next request, or lingering.
        case writing(offset: Int, keepAlive: Bool, deadline: Double)
        /// The response that ends the connection is out; dropping input until end of stream or `deadline`.
        case lingering(deadline: Double)
        case closed
    }

    /// What the driver does next for this connection.
    enum Action: Equatable {
        /// Wait until the socket is readable (or the deadline).
        case read
        /// Send `pendingOutput`.
        case write
        /// Shut the write side down, then wait for readable (to drop input).
        case shutDownWritesAndLinger
        case close
    }

    let descriptor: Int32
    private(set) var state: State
    /// When the current wait (for a head, between requests, for a response to
    /// leave) began: the oldest is evicted when the server is full.
    private(set) var waitingSince: Double
    private var buffer: [UInt8] = []
    private var parser: RequestParser
    private var output: [UInt8] = []
    private var peerEnded = false
    /// Kept alive between requests, with no byte of the next one yet.
    private var idle = false
    private let limits: ServerLimits
    private let handler: (String) -> HTTPServerResponse
    /// The Date field's value for a response made now (RFC 9110 6.6.1: an origin server with a clock sends it).
    private let date: () -> String

    init(descriptor: Int32, now: Double, limits: ServerLimits, date: @escaping () -> String,
         handler: @escaping (String) -> HTTPServerResponse) {
        self.descriptor = descriptor
        self.limits = limits
        self.date = date
        self.handler = handler
        self.parser = RequestParser(limits: limits.request)
        self.state = .reading(deadline: now + limits.headTimeout)
        self.waitingSince = now
    }

    /// The poll events the connection waits for, nil once closed.
    var events: Int16? {
        switch state {
        case .reading, .lingering: return pollIn
        case .writing: return pollOut
        case .closed: return nil
        }
    }

    /// Whether its last response is out and it only drops input before closing.
    var isLingering: Bool {
        if case .lingering = state { return true }
        return false
    }

    var deadline: Double? {
        switch state {
        case .reading(let deadline), .writing(_, _, let deadline), .lingering(let deadline): return deadline
        case .closed: return nil
        }
    }

    /// The bytes still to send while writing.
    var pendingOutput: ArraySlice<UInt8> {
        guard case .writing(let offset, _, _) = state else { return [] }
        return output[offset...]
    }

    /// Bytes arrived.
    mutating func received(_ bytes: ArraySlice<UInt8>, now: Double) -> Action {
        switch state {
        case .reading:
            if idle, !bytes.isEmpty {
                // The first byte of a request after an idle wait starts its head's clock
                // (a new connection's started at the accept).
                idle = false
                state = .reading(deadline: now + limits.headTimeout)
            }
            buffer.append(contentsOf: bytes)
            return nextRequest(now: now)
        case .lingering:
            return .read
        case .writing, .closed:
            preconditionFailure("bytes received while \(state)")
        }
    }

    /// The peer ended its side: no more bytes will come.
    mutating func peerClosed(now: Double) -> Action {
        peerEnded = true
        switch state {
        case .reading, .lingering:
            state = .closed
            return .close
        case .writing:
            return .write
        case .closed:
            preconditionFailure("peer closed after close")
        }
    }

    /// `count` bytes of the pending output left.
    mutating func sent(_ count: Int, now: Double) -> Action {
        guard case .writing(let offset, let keepAlive, let deadline) = state else {
            preconditionFailure("sent while \(state)")
        }
        if offset + count < output.count {
            state = .writing(offset: offset + count, keepAlive: keepAlive, deadline: deadline)
            return .write
        }
        output = []
        waitingSince = now
        if keepAlive && !peerEnded {
            // A pipelined request may be in the buffer already.
            idle = buffer.isEmpty
            state = .reading(deadline: now + (idle ? limits.idleTimeout : limits.headTimeout))
            return nextRequest(now: now)
        }
        if peerEnded {
            state = .closed
            return .close
        }
        state = .lingering(deadline: now + limits.lingerTimeout)
        return .shutDownWritesAndLinger
    }

    /// The clock moved on: a connection past its deadline closes.
    mutating func timePassed(now: Double) -> Action {
        guard let deadline, now >= deadline else {
            switch state {
            case .reading, .lingering: return .read
            case .writing: return .write
            case .closed: return .close
            }
        }
        state = .closed
        return .close
    }

    /// The driver closed the socket (an error, an eviction, the server stopping).
    mutating func closed() {
        state = .closed
    }

    /// Parses the buffer; a complete head (or a refused one) becomes a response to write.
    private mutating func nextRequest(now: Double) -> Action {
        switch parser.parse(buffer[...]) {
        case .needMoreBytes:
            return .read
        case .malformed(let error):
            buffer = []
            respond(HTTPServerResponse(status: error.status, text: reasonPhrase(error.status)), to: nil, keepAlive: false, now: now)
        case .done(let request, let consumed):
            buffer.removeFirst(consumed)
            parser = RequestParser(limits: limits.request)
            let keepAlive = request.keepAlive && !peerEnded
            switch request.method {
            case "GET", "HEAD":
                respond(handler(request.path), to: request, keepAlive: keepAlive, now: now)
            default:
                respond(HTTPServerResponse(status: 405, text: reasonPhrase(405)), to: request, keepAlive: keepAlive, now: now)
            }
        }
        return .write
    }

    private mutating func respond(_ response: HTTPServerResponse, to request: HTTPServerRequest?, keepAlive: Bool, now: Double) {
        output = serializeResponse(response, date: date(), isHead: request?.method == "HEAD", keepAlive: keepAlive,
                                   http10: request?.minorVersion == 0)
        waitingSince = now
        state = .writing(offset: 0, keepAlive: keepAlive, deadline: now + limits.writeTimeout)
    }
}

/// The bytes of `response`: no body for HEAD (its Content-Length stays), `Allow`
/// on a 405, `Connection: close` when the connection ends with it, and
/// `Connection: keep-alive` when an HTTP/1.0 client asked to keep it.
func serializeResponse(_ response: HTTPServerResponse, date: String, isHead: Bool, keepAlive: Bool, http10: Bool) -> [UInt8] {
    // The handler is the program's own code: a line break here is a bug, not input.
    precondition(response.contentType.utf8.allSatisfy(isFieldValueByte), "a control byte in a Content-Type")
    precondition((100...999).contains(response.status), "status \(response.status)")
    var head = "HTTP/1.1 \(response.status) \(reasonPhrase(response.status))\r\nDate: \(date)\r\n"
    head += "Content-Type: \(response.contentType)\r\nContent-Length: \(response.body.count)\r\n"
    if response.status == 405 { head += "Allow: GET, HEAD\r\n" }
    head += "Cache-Control: no-store\r\n"
    if !keepAlive {
        head += "Connection: close\r\n"
    } else if http10 {
        head += "Connection: keep-alive\r\n"
    }
    head += "\r\n"
    var bytes = Array(head.utf8)
    if !isHead { bytes += response.body }
    return bytes
}

/// `seconds` since the epoch as an IMF-fixdate (RFC 9110 5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`.
func httpDate(_ seconds: Int) -> String {
    let time = System.utcTime(seconds)
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    // 1 January 1970 was a Thursday.
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][((days % 7) + 7) % 7]
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][time.month - 1]
    func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(weekday), \(two(time.day)) \(month) \(time.year) \(two(time.hour)):\(two(time.minute)):\(two(time.second)) GMT"
}

/// The reason phrase of the statuses this server sends (RFC 9110 15); empty for others.
func reasonPhrase(_ status: Int) -> String {
    switch status {
    case 200: return "OK"
    case 400: return "Bad Request"
    case 404: return "Not Found"
    case 405: return "Method Not Allowed"
    case 413: return "Content Too Large"
    case 414: return "URI Too Long"
    case 431: return "Request Header Fields Too Large"
    case 500: return "Internal Server Error"
    case 503: return "Service Unavailable"
    case 505: return "HTTP Version Not Supported"
    default: return ""
    }
}

let pollIn = Int16(POLLIN)
let pollOut = Int16(POLLOUT)

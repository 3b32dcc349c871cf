/// A request head as the server reads it: GET or HEAD (or another method the
/// server then refuses), an origin-form target, no body.
public struct HTTPServerRequest: Sendable, Equatable {
    /// The method token as sent (methods are case-sensitive, RFC 9110 9.1).
    public let method: String
    /// The origin-form target as sent, percent-encoding untouched (`/metrics?x=1`).
    public let target: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1 (and for a later 1.x, read as 1.1 per RFC 9110 2.5).
    public let minorVersion: Int
    /// The header fields in the order received, values trimmed of surrounding whitespace.
    public let headers: HTTPHeaders
    /// Whether the connection may carry another request after this one's response:
    /// HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`
    /// and without `close` (RFC 9112 9.3).
    public let keepAlive: Bool

    /// The target without its query (`/metrics` for `/metrics?x=1`).
    public var path: String {
        guard let question = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
        return String(target[target.startIndex..<question])
    }

    /// Equal in every part, header fields compared in order.
    public static func == (lhs: HTTPServerRequest, rhs: HTTPServerRequest) -> Bool {
        lhs.method == rhs.method && lhs.target == rhs.target && lhs.minorVersion == rhs.minorVersion
            && lhs.keepAlive == rhs.keepAlive
            && lhs.headers.fields.elementsEqual(rhs.headers.fields) { $0.name == $1.name && $0.value == $1.value }
    }
}

/// Why a request head was refused, as a kind the server maps to a status code.
///
/// Not thrown: the parser answers `.malformed(RequestError)`, and the server
/// answers the client with `status` and closes. Apart from `HTTPError`, which
/// is the client's error, because each kind here is a response status.
public struct RequestError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The request line is not `method SP target SP HTTP/x.y CRLF`. 400.
        case badRequestLine
        /// The target is not origin-form (`/path?query`) or holds a byte it may not. 400.
        case badTarget
        /// The request line exceeds its limit. 414 (most of such a line is its target).
        case uriTooLong
        /// An HTTP major version other than 1. 505.
        case versionNotSupported
        /// A line ends in LF without CR (RFC 9112 2.2 allows reading it; this parser does not). 400.
        case bareLineFeed
        /// A field line starting with whitespace (obs-fold, RFC 9112 5.2). 400.
        case obsoleteLineFolding
        /// A field line that is not `token ":" OWS value OWS`, whitespace before
        /// the colon included (RFC 9112 5.1), or a value with a control byte. 400.
        case badHeaderField
        /// HTTP/1.1 without exactly one Host field, or a Host value that is no
        /// `uri-host [":" port]` (RFC 9112 3.2). 400.
        case badHost
        /// The head (request line, fields and the empty line) exceeds its limit. 431.
        case headTooLarge
        /// A Content-Length that is not a number, more than one, or together with Transfer-Encoding. 400.
        case badFraming
        /// A body (Content-Length over 0, or any Transfer-Encoding): the server takes none. 413.
        case bodyNotAccepted
    }

    public let kind: Kind
    /// What exactly was wrong, for a log line; never compared.
    public let detail: String

    /// An error of `kind`, with `detail` for logs.
    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    /// The response status for this kind.
    public var status: Int {
        switch kind {
        case .badRequestLine, .badTarget, .bareLineFeed, .obsoleteLineFolding, .badHeaderField, .badHost, .badFraming:
            return 400
        case .uriTooLong: return 414
        case .versionNotSupported: return 505
        case .headTooLarge: return 431
        case .bodyNotAccepted: return 413
        }
    }

    /// `kind: detail`.
    public var description: String { "\(kind): \(detail)" }

    /// Equal kinds, whatever the detail.
    public static func == (lhs: RequestError, rhs: RequestError) -> Bool { lhs.kind == rhs.kind }
}

/// What the request parser made of the bytes it was given so far.
public enum RequestParse: Sendable, Equatable {
    /// A complete head, and how many input bytes it took.
    case done(HTTPServerRequest, consumed: Int)
    /// Not an error: read more and call again with the longer input.
    case needMoreBytes
    /// A head the server refuses with the error's status, then closes.
    case malformed(RequestError)
}

/// Caps on a request head.
public struct RequestLimits: Sendable {
    /// The whole head, from the request line's first byte to the empty line's LF.
    public var maxHeadBytes: Int
    /// The request line with its CRLF; past it the answer is `.uriTooLong`.
    public var maxRequestLineBytes: Int

    /// 8 KiB each by default.
    public init(maxHeadBytes: Int = 8 * 1024, maxRequestLineBytes: Int = 8 * 1024) {
        self.maxHeadBytes = maxHeadBytes
        self.maxRequestLineBytes = maxRequestLineBytes
    }
}

/// An incremental, strict HTTP/1.1 request-head parser (RFC 9112) for a server
/// that takes no bodies.
///
/// Each call gets every byte received for this request so far, always from the
/// same start; the parser remembers how far it got. The request line is read
/// byte by byte, so garbage is refused at its first bad byte rather than after
/// a timeout; each field line is read when its LF arrives. Every limit is
/// checked at the byte that crosses it, in byte order with the grammar, so the
/// answer is the same however the input is split.
///
/// Decisions: empty lines before the request line are skipped (RFC 9112 2.2);
/// only origin-form targets (`/path?query`), the server serves no proxy or
/// `OPTIONS *`; `HTTP/1.x` with x > 1 is read as 1.1 (RFC 9110 2.5), any other
/// major version is 505; a bare LF is malformed; a request line past
/// `maxRequestLineBytes` is 414, a head past `maxHeadBytes` is 431;
/// `Content-Length: 0` is accepted, any other body is 413.
public struct RequestParser: Sendable {
    private enum Line: Sendable {
        /// Before the method: CRLFs here are skipped. `afterCR`: a CR was just read.
        case start(afterCR: Bool)
        case method
        /// In the target; `hexLeft`: hex digits still due after a `%`.
        case target(hexLeft: Int)
        /// `matched` bytes of `HTTP/d.d` read.
        case version(matched: Int)
        /// After the version; `afterCR`: its CR was read, the LF is due.
        case lineEnd(afterCR: Bool)
        /// In the field lines; the current one starts at `lineStart` and holds no LF before `scanned`.
        case fields(lineStart: Int, scanned: Int)
    }

    private let limits: RequestLimits
    private var line = Line.start(afterCR: false)
    /// Offset of the next byte to read, relative to the input's start.
    private var position = 0
    private var requestLineStart = 0
    private var methodEnd = 0
    private var targetEnd = 0
    private var major = 0
    private var minor = 0
    /// Where the field lines start.
    private var fieldsStart = 0
    private var hostFields = 0
    private var contentLengthFields = 0
    private var contentLength: Int?
    private var transferEncoding = false
    private var closeToken = false
    private var keepAliveToken = false

    /// A parser for one request head.
    public init(limits: RequestLimits = RequestLimits()) {
        self.limits = limits
    }

    /// Parses `input`, every byte of this request so far (the same start on every call).
    public mutating func parse(_ input: ArraySlice<UInt8>) -> RequestParse {
        let base = input.startIndex
        while position < input.count {
            if case .fields(let lineStart, let scanned) = line {
                return readFields(input, lineStart: lineStart, scanned: scanned)
            }
            let byte = input[base + position]
            // The cap applies to the request line from its first byte, and to the
            // empty lines before it through the head cap.
            if case .start = line {
                if position >= limits.maxHeadBytes {
                    return .malformed(RequestError(.headTooLarge, "more than \(limits.maxHeadBytes) bytes of empty lines"))
                }
            } else if position - requestLineStart >= limits.maxRequestLineBytes {
                return .malformed(RequestError(.uriTooLong, "the request line exceeds \(limits.maxRequestLineBytes) bytes"))
            } else if position >= limits.maxHeadBytes {
                return .malformed(RequestError(.headTooLarge, "the request head exceeds \(limits.maxHeadBytes) bytes"))
            }
            if let error = step(byte) { return .malformed(error) }
            position += 1
        }
        if case .fields(let lineStart, let scanned) = line {
            return readFields(input, lineStart: lineStart, scanned: scanned)
        }
        return .needMoreBytes
    }

    /// One byte of the request line (or of the empty lines before it).
    private mutating func step(_ byte: UInt8) -> RequestError? {
        switch line {
        case .start(let afterCR):
            if afterCR {
                guard byte == 10 else { return RequestError(.badRequestLine, "a CR not followed by LF before the request line") }
                line = .start(afterCR: false)
            } else if byte == 13 {
                line = .start(afterCR: true)
            } else if byte == 10 {
                return RequestError(.bareLineFeed, "a bare LF before the request line")
            } else if isTokenByte(byte) {
                requestLineStart = position
                line = .method
            } else {
                return RequestError(.badRequestLine, "the method starts with byte \(byte)")
            }
        case .method:
            if byte == 32 {
                methodEnd = position
                line = .target(hexLeft: -1)
            } else if !isTokenByte(byte) {
                return RequestError(.badRequestLine, "byte \(byte) in the method")
            }
        case .target(let hexLeft):
            if hexLeft == -1 {
                // The first byte of the target: origin-form only (RFC 9112 3.2.1).
                guard byte == UInt8(ascii: "/") else {
                    return RequestError(.badTarget, "the target does not start with /")
                }
                line = .target(hexLeft: 0)
            } else if hexLeft > 0 {
                guard hexValue(byte) != nil else { return RequestError(.badTarget, "a % not followed by two hex digits") }
                line = .target(hexLeft: hexLeft - 1)
            } else if byte == 32 {
                targetEnd = position
                line = .version(matched: 0)
            } else if byte == UInt8(ascii: "%") {
                line = .target(hexLeft: 2)
            } else if !isTargetByte(byte) {
                return RequestError(.badTarget, "byte \(byte) in the target")
            }
        case .version(let matched):
            // "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3).
            switch matched {
            case 0..<5:
                guard byte == Array("HTTP/".utf8)[matched] else {
                    return RequestError(.badRequestLine, "the version does not start with HTTP/")
                }
            case 5, 7:
                guard isDigit(byte) else { return RequestError(.badRequestLine, "a version number is not a digit") }
                if matched == 5 { major = Int(byte - 48) } else { minor = Int(byte - 48) }
                if matched == 7 && major != 1 {
                    return RequestError(.versionNotSupported, "HTTP/\(major).\(minor)")
                }
            default:
                guard byte == UInt8(ascii: ".") else { return RequestError(.badRequestLine, "the version has no dot") }
            }
            line = matched == 7 ? .lineEnd(afterCR: false) : .version(matched: matched + 1)
        case .lineEnd(let afterCR):
            if afterCR {
                guard byte == 10 else { return RequestError(.badRequestLine, "a CR not followed by LF in the request line") }
                fieldsStart = position + 1
                line = .fields(lineStart: position + 1, scanned: position + 1)
            } else if byte == 13 {
                line = .lineEnd(afterCR: true)
            } else if byte == 10 {
                return RequestError(.bareLineFeed, "the request line ends in a bare LF")
            } else {
                return RequestError(.badRequestLine, "byte \(byte) after the version")
            }
        case .fields:
            preconditionFailure("field lines are read whole")
        }
        return nil
    }

    /// Reads the field lines whose LF has arrived; the head ends at an empty line.
    /// A byte-at-a-time client costs one pass over each line, not one per byte: the
    /// search for the LF resumes where the last call stopped.
    private mutating func readFields(_ input: ArraySlice<UInt8>, lineStart: Int, scanned: Int) -> RequestParse {
        let base = input.startIndex
        var lineStart = base + lineStart
        var scanFrom = base + scanned
        while true {
            let lineFeed = input[scanFrom...].firstIndex(of: 10)
            // The head cap, checked at the LF (or at the input's end) before the line's grammar.
            if (lineFeed.map { $0 + 1 } ?? input.endIndex) - base > limits.maxHeadBytes {
                return .malformed(RequestError(.headTooLarge, "the request head exceeds \(limits.maxHeadBytes) bytes"))
            }
            guard let lineFeed else {
                line = .fields(lineStart: lineStart - base, scanned: input.count)
                position = input.count
                return .needMoreBytes
            }
            guard lineFeed > lineStart, input[lineFeed - 1] == 13 else {
                return .malformed(RequestError(.bareLineFeed, "a field line ends in a bare LF"))
            }
            if lineFeed - 1 == lineStart {
                return finish(input, end: lineFeed + 1 - base)
            }
            if let error = readField(input, at: lineStart) { return .malformed(error) }
            lineStart = lineFeed + 1
            scanFrom = lineStart
        }
    }

    /// The field line at `start` of `input`, whose CRLF has arrived (RFC 9112 5).
    private mutating func readField(_ input: ArraySlice<UInt8>, at start: Int) -> RequestError? {
        let field: HTTPHeaders.Field
        switch readFieldLine(input, at: start) {
        case .failure(.obsoleteLineFolding):
            return RequestError(.obsoleteLineFolding, "a field line starts with whitespace")
        case .failure(.noColon):
            return RequestError(.badHeaderField, "a field line without a colon")
        case .failure(.badName(let name)):
            return RequestError(.badHeaderField, "invalid field name \"\(String(decoding: input[name].prefix(40), as: UTF8.self).escapingControlCharacters())\"")
        case .failure(.badValue(let name)):
            return RequestError(.badHeaderField, "a control byte in the value of \(String(decoding: input[name], as: UTF8.self))")
        case .success(let line):
            field = line.field
        }
        let name = field.name
        let value = field.value
        if bytesEqualIgnoringCase(input, name, "host") {
            hostFields += 1
            for index in value where !isHostByte(input[index]) {
                return RequestError(.badHost, "a Host value that is no host[:port]")
            }
        } else if bytesEqualIgnoringCase(input, name, "content-length") {
            contentLengthFields += 1
            contentLength = decimalValue(input, value)
        } else if bytesEqualIgnoringCase(input, name, "transfer-encoding") {
            transferEncoding = true
        } else if bytesEqualIgnoringCase(input, name, "connection") {
            var options = ListElements(value)
            while let option = options.next(in: input) {
                if bytesEqualIgnoringCase(input, option, "close") { closeToken = true }
                if bytesEqualIgnoringCase(input, option, "keep-alive") { keepAliveToken = true }
            }
        }
        return nil
    }

    /// The checks that need the whole head, then the request.
    private func finish(_ input: ArraySlice<UInt8>, end: Int) -> RequestParse {
        if minor >= 1 && hostFields != 1 {
            return .malformed(RequestError(.badHost, hostFields == 0 ? "HTTP/1.1 without Host" : "\(hostFields) Host fields"))
        }
        if hostFields > 1 {
            return .malformed(RequestError(.badHost, "\(hostFields) Host fields"))
        }
        if transferEncoding {
            if contentLengthFields > 0 {
                return .malformed(RequestError(.badFraming, "both Transfer-Encoding and Content-Length"))
            }
            return .malformed(RequestError(.bodyNotAccepted, "a body in Transfer-Encoding"))
        }
        if contentLengthFields > 1 {
            return .malformed(RequestError(.badFraming, "\(contentLengthFields) Content-Length fields"))
        }
        if contentLengthFields == 1 {
            guard let contentLength else { return .malformed(RequestError(.badFraming, "a Content-Length that is no number")) }
            if contentLength > 0 { return .malformed(RequestError(.bodyNotAccepted, "a \(contentLength)-byte body")) }
        }
        let base = input.startIndex
        let request = HTTPServerRequest(
            method: String(decoding: input[(base + requestLineStart)..<(base + methodEnd)], as: UTF8.self),
            target: String(decoding: input[(base + methodEnd + 1)..<(base + targetEnd)], as: UTF8.self),
            minorVersion: min(minor, 1),
            headers: HTTPHeaders(fieldLines: System.copy(input[(base + fieldsStart)..<(base + end - 2)])),
            keepAlive: minor == 0 ? keepAliveToken && !closeToken : !closeToken)
        return .done(request, consumed: end)
    }
}

/// A byte of an origin-form target other than `%` (RFC 3986: pchar, "/" and "?").
private func isTargetByte(_ byte: UInt8) -> Bool {
    switch byte {
    case 48...57, 65...90, 97...122: return true
    default: return "-._~!$&'()*+,;=:@/?".utf8.contains(byte)
    }
}

/// A byte of `uri-host [":" port]` (RFC 3986 3.2.2): reg-name, IP literals in brackets, percent-encoding.
private func isHostByte(_ byte: UInt8) -> Bool {
    switch byte {
    case 48...57, 65...90, 97...122: return true
    default: return "-._~!$&'()*+,;=:[]%".utf8.contains(byte)
    }
}

/// Header fields in the order received; names compare case-insensitively.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [(name: String, value: String)]

    public init(_ fields: [(name: String, value: String)] = []) {
        self.fields = fields
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        fields = elements.map { (name: $0.0, value: $0.1) }
    }

    public mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    /// The first value of `name`, or nil.
    public subscript(name: String) -> String? {
        fields.first { equalsIgnoringCase($0.name, name) }?.value
    }

    /// Every value of `name`, in order.
    public func values(for name: String) -> [String] {
        fields.filter { equalsIgnoringCase($0.name, name) }.map { $0.value }
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// Whether any `name` field lists `token` in its comma-separated value (e.g. `Connection: close`).
    public func contains(token: String, in name: String) -> Bool {
        fields.contains { field in
            guard equalsIgnoringCase(field.name, name) else { return false }
            var found = false
            forEachToken(field.value.utf8) { found = found || equalsIgnoringCase($0, token.utf8) }
            return found
        }
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        fields.makeIterator()
    }
}

/// ASCII case-insensitive equality, without building lower-cased copies.
func equalsIgnoringCase(_ lhs: String, _ rhs: String) -> Bool {
    equalsIgnoringCase(lhs.utf8, rhs.utf8)
}

func equalsIgnoringCase<L: Collection<UInt8>, R: Collection<UInt8>>(_ lhs: L, _ rhs: R) -> Bool {
    lhs.count == rhs.count && zip(lhs, rhs).allSatisfy { asciiLowercase($0) == asciiLowercase($1) }
}

/// `bytes` equal to the lower-case ASCII `name`, ignoring case.
@inline(__always)
func bytesEqualIgnoringCase(_ bytes: ArraySlice<UInt8>, _ name: StaticString) -> Bool {
    guard bytes.count == name.utf8CodeUnitCount else { return false }
    return name.withUTF8Buffer { zip(bytes, $0).allSatisfy { asciiLowercase($0) == $1 } }
}

/// Calls `body` with each element of a comma-separated list (RFC 9110 5.6.1),
/// trimmed of spaces and tabs, skipping empty ones.
func forEachToken<C: BidirectionalCollection<UInt8>>(_ value: C, _ body: (C.SubSequence) -> Void) {
    var rest = value[...]
    while !rest.isEmpty {
        let comma = rest.firstIndex(of: UInt8(ascii: ",")) ?? rest.endIndex
        var token = rest[rest.startIndex..<comma]
        while let first = token.first, first == 32 || first == 9 { token = token.dropFirst() }
        while let last = token.last, last == 32 || last == 9 { token = token.dropLast() }
        if !token.isEmpty { body(token) }
        rest = comma == rest.endIndex ? rest[comma...] : rest[rest.index(after: comma)...]
    }
}

@inline(__always)
func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }

func hexValue(_ byte: UInt8) -> Int? {
    switch byte {
    case 48...57: return Int(byte - 48)
    case 65...70: return Int(byte - 55)
    case 97...102: return Int(byte - 87)
    default: return nil
    }
}

/// `tchar` of RFC 9110 5.6.2.
func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case 48...57, 65...90, 97...122: return true
    default: return "!#$%&'*+-.^_`|~".utf8.contains(byte)
    }
}

@inline(__always)
func asciiLowercase(_ byte: UInt8) -> UInt8 {
    byte >= 65 && byte <= 90 ? byte | 0x20 : byte
}

/// A request to send. `Host` and `Content-Length` are written by the client.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: HTTPURL
    public var headers: HTTPHeaders
    public var body: [UInt8]?
    /// Overrides the client's whole-request deadline (write and response) in seconds.
    public var timeout: Double?
    /// Overrides the client's connect deadline (TCP and TLS handshake) in seconds.
    public var connectTimeout: Double?
    /// Whether sending the request twice has the effect of sending it once (RFC 9110 9.2.2),
    /// so that it may be sent again on a new connection when a reused one closed or went
    /// silent before answering. True for GET and HEAD unless set; a caller sets it for, say,
    /// a merge patch that writes a fixed value.
    public var isIdempotent: Bool

    public init(method: String = "GET", url: HTTPURL, headers: HTTPHeaders = [:], body: [UInt8]? = nil,
                timeout: Double? = nil, connectTimeout: Double? = nil, isIdempotent: Bool? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.isIdempotent = isIdempotent ?? (method == "GET" || method == "HEAD")
    }
}

/// A complete response: status, headers and the whole body (already de-chunked).
public struct HTTPResponse: Sendable {
    public let status: Int
    public let headers: HTTPHeaders
    public let body: [UInt8]

    public init(status: Int, headers: HTTPHeaders, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

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
        fields.filter { equalsIgnoringCase($0.name, name) }.map(\.value)
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// Whether any `name` field lists `token` in its comma-separated value (e.g. `Connection: close`).
    public func contains(token: String, in name: String) -> Bool {
        values(for: name).contains { value in
            value.split(separator: ",").contains { equalsIgnoringCase($0.trimmingWhitespace(), token) }
        }
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        fields.makeIterator()
    }
}

/// ASCII case-insensitive equality, without building lower-cased copies.
func equalsIgnoringCase(_ lhs: String, _ rhs: String) -> Bool {
    lhs.utf8.count == rhs.utf8.count
        && zip(lhs.utf8, rhs.utf8).allSatisfy { asciiLowercase($0) == asciiLowercase($1) }
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

    public init(method: String = "GET", url: HTTPURL, headers: HTTPHeaders = [:], body: [UInt8]? = nil,
                timeout: Double? = nil, connectTimeout: Double? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connectTimeout = connectTimeout
    }

    /// GET and HEAD may be sent again when a reused connection turns out closed.
    var isSafeToRetry: Bool { method == "GET" || method == "HEAD" }
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

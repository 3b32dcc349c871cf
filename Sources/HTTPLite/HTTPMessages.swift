/// Header fields in the order received; names compare case-insensitively.
///
/// Names and values are bytes in one buffer: a response's field lines as received,
/// copied once, or the fields added. A `String` is made only when one is asked for.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    /// Where one field's name and value are in `bytes`.
    struct Field: Sendable, Equatable {
        let name: Range<Int>
        let value: Range<Int>
    }

    /// The bytes every field's name and value are in.
    private(set) var bytes: [UInt8]
    /// Where each added field is in `bytes`. Nil when `bytes` are field lines as a parser
    /// received and checked them (`token ":" OWS field-value OWS CRLF` each), which are
    /// read again when a field is asked for: most responses' fields never are.
    private var ranges: [Field]?

    public init(_ fields: [(name: String, value: String)] = []) {
        bytes = []
        if fields.isEmpty { return }
        ranges = []
        ranges?.reserveCapacity(fields.count)
        for field in fields { add(field.name, field.value) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        bytes = []
        ranges = []
        ranges?.reserveCapacity(elements.count)
        for (name, value) in elements { add(name, value) }
    }

    /// Field lines a parser checked with `readFieldLine`, each with its CRLF.
    init(fieldLines: [UInt8]) {
        bytes = fieldLines
    }

    /// Appends a field; names and values are checked only when a request is written.
    public mutating func add(_ name: String, _ value: String) {
        if ranges == nil {
            var fields: [Field] = []
            var position = 0
            while let field = self.field(after: &position) { fields.append(field) }
            ranges = fields
        }
        let nameStart = bytes.count
        bytes.append(contentsOf: name.utf8)
        let valueStart = bytes.count
        bytes.append(contentsOf: value.utf8)
        ranges?.append(Field(name: nameStart..<valueStart, value: valueStart..<bytes.count))
    }

    /// The field at `position` (0 for the first), moving `position` on to the next; nil after the last.
    func field(after position: inout Int) -> Field? {
        if let ranges {
            guard position < ranges.count else { return nil }
            position += 1
            return ranges[position - 1]
        }
        guard position < bytes.count else { return nil }
        // The parser's own reader: the line passed it once, so it cannot fail now.
        guard case .success(let line) = readFieldLine(bytes[...], at: position) else {
            preconditionFailure("a field line that was checked no longer reads")
        }
        position = line.next
        return line.field
    }

    /// Whether `other` holds the same bytes in the same fields (identical storage compares at once).
    func hasSameFields(as other: HTTPHeaders) -> Bool {
        bytes == other.bytes && ranges == other.ranges
    }

    /// How many fields there are.
    public var count: Int {
        var count = 0
        var position = 0
        while self.field(after: &position) != nil { count += 1 }
        return count
    }

    /// Every field as strings, in order.
    public var fields: [(name: String, value: String)] { Array(self) }

    /// The first value of `name`, or nil.
    public subscript(name: String) -> String? {
        var position = 0
        while let field = self.field(after: &position) {
            if nameEquals(field, name) { return string(field.value) }
        }
        return nil
    }

    /// Every value of `name`, in order.
    public func values(for name: String) -> [String] {
        var values: [String] = []
        var position = 0
        while let field = self.field(after: &position) {
            if nameEquals(field, name) { values.append(string(field.value)) }
        }
        return values
    }

    /// Whether a field is named `name`.
    public func contains(_ name: String) -> Bool {
        self[name] != nil
    }

    /// Whether any `name` field lists `token` in its comma-separated value (e.g. `Connection: close`).
    public func contains(token: String, in name: String) -> Bool {
        var position = 0
        while let field = self.field(after: &position) {
            guard nameEquals(field, name) else { continue }
            var elements = ListElements(field.value)
            while let element = elements.next(in: bytes[...]) {
                if bytesEqualIgnoringCase(bytes, element, token.utf8) { return true }
            }
        }
        return false
    }

    /// An iterator over the fields as strings, in order.
    public func makeIterator() -> Iterator {
        Iterator(headers: self)
    }

    /// The fields as strings, made one at a time.
    public struct Iterator: IteratorProtocol {
        fileprivate let headers: HTTPHeaders
        fileprivate var position = 0

        /// The next field's name and value, or nil after the last.
        public mutating func next() -> (name: String, value: String)? {
            guard let field = headers.field(after: &position) else { return nil }
            return (headers.string(field.name), headers.string(field.value))
        }
    }

    private func string(_ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    private func nameEquals(_ field: Field, _ name: String) -> Bool {
        bytesEqualIgnoringCase(bytes, field.name, name.utf8)
    }
}

/// Whether `bytes[range]` is `text`, ignoring ASCII case, without building lower-cased copies.
func bytesEqualIgnoringCase(_ bytes: [UInt8], _ range: Range<Int>, _ text: String.UTF8View) -> Bool {
    guard range.count == text.count else { return false }
    var index = range.lowerBound
    for byte in text {
        if asciiLowercase(bytes[index]) != asciiLowercase(byte) { return false }
        index += 1
    }
    return true
}

/// `bytes` equal to the lower-case ASCII `name`, ignoring case.
@inline(__always)
func bytesEqualIgnoringCase(_ bytes: ArraySlice<UInt8>, _ name: StaticString) -> Bool {
    bytesEqualIgnoringCase(bytes, bytes.startIndex..<bytes.endIndex, name)
}

/// `bytes[range]` equal to the lower-case ASCII `name`, ignoring case, read in place
/// (a slice of a slice costs a call and a retain at -Osize).
@inline(__always)
func bytesEqualIgnoringCase(_ bytes: ArraySlice<UInt8>, _ range: Range<Int>, _ name: StaticString) -> Bool {
    guard range.count == name.utf8CodeUnitCount else { return false }
    return name.withUTF8Buffer { name in
        var index = range.lowerBound
        for byte in name {
            if asciiLowercase(bytes[index]) != byte { return false }
            index += 1
        }
        return true
    }
}

/// The elements of a comma-separated list (RFC 9110 5.6.1) in a range of bytes,
/// trimmed of spaces and tabs, empty ones skipped, as ranges of the same bytes.
struct ListElements {
    private var position: Int
    private let end: Int

    init(_ range: Range<Int>) {
        position = range.lowerBound
        end = range.upperBound
    }

    /// The next element of `bytes` (the bytes the range was in), or nil after the last.
    mutating func next(in bytes: ArraySlice<UInt8>) -> Range<Int>? {
        while position < end {
            var start = position
            while position < end, bytes[position] != UInt8(ascii: ",") { position += 1 }
            var stop = position
            if position < end { position += 1 }
            while start < stop, bytes[start] == 32 || bytes[start] == 9 { start += 1 }
            while stop > start, bytes[stop - 1] == 32 || bytes[stop - 1] == 9 { stop -= 1 }
            if stop > start { return start..<stop }
        }
        return nil
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

/// `tchar` of RFC 9110 5.6.2: `!#$%&'*+-.^_`|~`, digits and letters, looked up in
/// a 128-bit table (bytes 0-63 in one word, 64-127 in the other).
@inline(__always)
func isTokenByte(_ byte: UInt8) -> Bool {
    let word: UInt64 = byte < 64 ? 0x03ff_6cfa_0000_0000 : 0x57ff_ffff_c7ff_fffe
    return byte < 128 && (word >> UInt64(byte & 63)) & 1 == 1
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

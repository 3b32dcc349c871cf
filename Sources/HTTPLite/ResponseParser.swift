/// What a parser made of the bytes it was given so far.
enum Parse<T> {
    /// A complete message, and how many input bytes it took.
    case done(T, consumed: Int)
    /// Not an error: read more and call again with the longer input.
    case needMoreBytes
    case malformed(HTTPError)
}

/// A response and whether its connection may carry another request.
struct ParsedResponse {
    let response: HTTPResponse
    let keepAlive: Bool
}

/// Caps that keep a hostile or broken peer from taking unbounded memory.
public struct ResponseLimits: Sendable {
    public var maxHeaderBytes: Int
    public var maxBodyBytes: Int

    public init(maxHeaderBytes: Int = 64 * 1024, maxBodyBytes: Int = 4 * 1024 * 1024) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }
}

/// An incremental, strict HTTP/1.1 response parser (RFC 9112).
///
/// Each call gets every byte received for this response so far, always from
/// the same start; the parser remembers how far it got. Offsets below are
/// relative to the input's start. Decisions: a bare LF line ending is
/// malformed (RFC 9112 2.2 allows either; we take the strict side), obs-fold
/// is malformed, any second Content-Length is malformed, and the only
/// transfer coding understood is a lone `chunked`.
struct ResponseParser {
    private enum State {
        case head(start: Int, lineStart: Int)
        case fixedBody(start: Int, length: Int)
        case chunkSize(at: Int)
        case chunkData(at: Int, size: Int)
        case trailers(start: Int, lineStart: Int)
        case untilClose(start: Int)
    }

    private var state = State.head(start: 0, lineStart: 0)
    private var status = 0
    private var headers = HTTPHeaders()
    private var keepAlive = true
    /// What the header fields say about framing, gathered while they are read.
    private var framing = FramingFields()
    private var body: [UInt8] = []
    private let limits: ResponseLimits
    private let isHeadRequest: Bool
    /// Chunk extensions are ignored, so a chunk-size line needs little room.
    private static let maxChunkLineBytes = 4096

    init(limits: ResponseLimits = ResponseLimits(), isHeadRequest: Bool = false) {
        self.limits = limits
        self.isHeadRequest = isHeadRequest
    }

    mutating func parse(_ input: ArraySlice<UInt8>, atEndOfStream: Bool) -> Parse<ParsedResponse> {
        let base = input.startIndex
        let count = input.count
        while true {
            switch state {
            case .head(let start, let lineStart):
                switch findBlockEnd(input, start: start, lineStart: lineStart, name: "header block") {
                case .malformed(let error):
                    return .malformed(error)
                case .needMoreBytes(let nextLineStart):
                    if atEndOfStream {
                        let detail = count == start ? "before sending a response" : "in the middle of the header block"
                        return .malformed(HTTPError(.closedEarly, "the peer closed the connection \(detail)"))
                    }
                    state = .head(start: start, lineStart: nextLineStart)
                    return .needMoreBytes
                case .found(let end):
                    if let error = readHead(input[(base + start)..<(base + end - 2)]) {
                        return .malformed(error)
                    }
                    if status == 101 {
                        return .malformed(HTTPError(.malformed, "101 Switching Protocols, but no upgrade was asked for"))
                    }
                    if (100..<200).contains(status) {
                        // Interim responses (100 Continue, 103 Early Hints) precede the real one.
                        headers = HTTPHeaders()
                        framing = FramingFields()
                        state = .head(start: end, lineStart: end)
                        continue
                    }
                    switch chooseFraming(bodyStart: end) {
                    case .failure(let error):
                        return .malformed(error)
                    case .success(nil):
                        return .done(finish(), consumed: end)
                    case .success(let next?):
                        state = next
                    }
                }

            case .fixedBody(let start, let length):
                if count - start >= length {
                    body = System.copy(input[(base + start)..<(base + start + length)])
                    return .done(finish(), consumed: start + length)
                }
                if atEndOfStream {
                    return .malformed(HTTPError(.closedEarly, "the peer closed the connection after \(count - start) of \(length) body bytes"))
                }
                return .needMoreBytes

            case .chunkSize(let at):
                // The cap counts the bytes before the LF, found or not, so that
                // where the input is split cannot change the answer.
                let lineFeed = System.firstIndex(of: 10, in: input, from: base + at)
                if (lineFeed ?? base + count) - (base + at) > Self.maxChunkLineBytes {
                    return .malformed(HTTPError(.malformed, "a chunk size line is longer than \(Self.maxChunkLineBytes) bytes"))
                }
                guard let lineFeed else {
                    return atEndOfStream ? closedInChunkedBody() : .needMoreBytes
                }
                guard lineFeed > base + at, input[lineFeed - 1] == 13 else {
                    return .malformed(HTTPError(.malformed, "a chunk size line ends in a bare LF"))
                }
                switch readChunkSize(input[(base + at)..<(lineFeed - 1)]) {
                case .failure(let error):
                    return .malformed(error)
                case .success(let size):
                    // Compared without adding, so that no limit value can overflow.
                    if body.count > limits.maxBodyBytes || size > limits.maxBodyBytes - body.count {
                        return .malformed(HTTPError(.tooLarge, "the body exceeds \(limits.maxBodyBytes) bytes"))
                    }
                    let next = lineFeed + 1 - base
                    state = size == 0 ? .trailers(start: next, lineStart: next) : .chunkData(at: next, size: size)
                }

            case .chunkData(let at, let size):
                // `size + 2` could overflow: subtract from the count instead.
                guard count - at >= 2, count - at - 2 >= size else {
                    return atEndOfStream ? closedInChunkedBody() : .needMoreBytes
                }
                let end = base + at + size
                guard input[end] == 13, input[end + 1] == 10 else {
                    return .malformed(HTTPError(.malformed, "chunk data is not followed by CRLF"))
                }
                body.append(contentsOf: input[(base + at)..<end])
                state = .chunkSize(at: at + size + 2)

            case .trailers(let start, let lineStart):
                switch findBlockEnd(input, start: start, lineStart: lineStart, name: "trailer section") {
                case .malformed(let error):
                    return .malformed(error)
                case .needMoreBytes(let nextLineStart):
                    if atEndOfStream { return closedInChunkedBody() }
                    state = .trailers(start: start, lineStart: nextLineStart)
                    return .needMoreBytes
                case .found(let end):
                    // Trailer fields are checked like headers, then dropped: nothing here needs them.
                    var trailers = FramingFields()
                    if let error = readFields(input[(base + start)..<(base + end - 2)], into: &trailers) {
                        return .malformed(error)
                    }
                    return .done(finish(), consumed: end)
                }

            case .untilClose(let start):
                if count - start > limits.maxBodyBytes {
                    return .malformed(HTTPError(.tooLarge, "the body exceeds \(limits.maxBodyBytes) bytes"))
                }
                guard atEndOfStream else { return .needMoreBytes }
                body = System.copy(input[(base + start)...])
                return .done(finish(), consumed: count)
            }
        }
    }

    private func finish() -> ParsedResponse {
        ParsedResponse(response: HTTPResponse(status: status, headers: headers, body: body), keepAlive: keepAlive)
    }

    private func closedInChunkedBody() -> Parse<ParsedResponse> {
        .malformed(HTTPError(.closedEarly, "the peer closed the connection in the middle of a chunked body"))
    }

    // MARK: Header blocks

    private enum BlockEnd {
        case found(end: Int)
        case needMoreBytes(lineStart: Int)
        case malformed(HTTPError)
    }

    /// Looks for the empty line that ends a header (or trailer) block.
    /// `end` is the offset just past that line's CRLF.
    ///
    /// The size cap is checked at every LF and at the end of the input, before
    /// anything else about the line, so the answer is the same however the
    /// bytes were split: a prefix that is already too long is too long whole.
    private func findBlockEnd(_ input: ArraySlice<UInt8>, start: Int, lineStart: Int, name: String) -> BlockEnd {
        let base = input.startIndex
        var lineStart = base + lineStart
        while let index = System.firstIndex(of: 10, in: input, from: lineStart) {
            if index + 1 - (base + start) > limits.maxHeaderBytes {
                return .malformed(HTTPError(.tooLarge, "the \(name) exceeds \(limits.maxHeaderBytes) bytes"))
            }
            guard index > lineStart, input[index - 1] == 13 else {
                return .malformed(HTTPError(.malformed, "a header line ends in a bare LF"))
            }
            if index - 1 == lineStart {
                return .found(end: index + 1 - base)
            }
            lineStart = index + 1
        }
        if input.count - start > limits.maxHeaderBytes {
            return .malformed(HTTPError(.tooLarge, "the \(name) exceeds \(limits.maxHeaderBytes) bytes"))
        }
        return .needMoreBytes(lineStart: lineStart - base)
    }

    /// Reads the status line and header fields of `block` (every line with its CRLF, the
    /// empty line left out); nil when they are well-formed. The field lines are copied
    /// once, into the headers, which read a field again only when it is asked for.
    private mutating func readHead(_ block: ArraySlice<UInt8>) -> HTTPError? {
        let statusEnd = System.firstIndex(of: 10, in: block, from: block.startIndex) ?? block.endIndex
        let statusLine = block[block.startIndex..<max(block.startIndex, statusEnd - 1)]
        guard let (minor, code) = readStatusLine(statusLine) else {
            let shown = String(decoding: statusLine.prefix(40), as: UTF8.self)
            return HTTPError(.malformed, "not an HTTP/1.x status line: \"\(shown)\"")
        }
        status = code
        let bytes = statusEnd < block.endIndex ? System.copy(block[(statusEnd + 1)...]) : []
        var framing = FramingFields()
        if let error = readFields(bytes[...], into: &framing) { return error }
        self.framing = framing
        headers = HTTPHeaders(fieldLines: bytes)
        keepAlive = minor == 0 ? framing.keepAliveToken && !framing.closeToken : !framing.closeToken
        return nil
    }

    /// `HTTP/1.x SP 3DIGIT [SP reason]`; the reason is checked and dropped (RFC 9112 4).
    private func readStatusLine(_ line: ArraySlice<UInt8>) -> (minor: Int, status: Int)? {
        let b = line.startIndex
        guard line.count >= 12, line[b] == 72, line[b + 1] == 84, line[b + 2] == 84, line[b + 3] == 80,
              line[b + 4] == 47, line[b + 5] == 49, line[b + 6] == 46,  // "HTTP/1."
              isDigit(line[b + 7]), line[b + 8] == 32,
              isDigit(line[b + 9]), isDigit(line[b + 10]), isDigit(line[b + 11]), line[b + 9] != 48
        else { return nil }
        if line.count > 12 {
            guard line[b + 12] == 32 else { return nil }
            var index = b + 13
            while index < line.endIndex {
                guard isFieldValueByte(line[index]) else { return nil }
                index += 1
            }
        }
        let status = Int(line[b + 9] - 48) * 100 + Int(line[b + 10] - 48) * 10 + Int(line[b + 11] - 48)
        return (Int(line[b + 7] - 48), status)
    }

    /// Checks every field line of `block` (each with its CRLF, as `findBlockEnd` found them)
    /// and notes what they say about framing in `framing`. Nil when all are well-formed.
    private func readFields(_ block: ArraySlice<UInt8>, into framing: inout FramingFields) -> HTTPError? {
        var lineStart = block.startIndex
        while lineStart < block.endIndex {
            switch readFieldLine(block, at: lineStart) {
            case .failure(let fault):
                return fault.error(in: block)
            case .success(let line):
                framing.note(block, name: line.field.name, value: line.field.value)
                lineStart = line.next
            }
        }
        return nil
    }

    // MARK: Framing (RFC 9112 6.3)

    private mutating func chooseFraming(bodyStart: Int) -> Result<State?, HTTPError> {
        if isHeadRequest || status == 204 || status == 304 {
            return .success(nil)
        }
        if framing.transferEncodingFields > 0 {
            guard framing.contentLengthFields == 0 else {
                return .failure(HTTPError(.malformed, "both Transfer-Encoding and Content-Length are present"))
            }
            guard framing.isChunkedAlone else {
                let given = headers.values(for: "Transfer-Encoding").joined(separator: ", ")
                return .failure(HTTPError(.malformed, "unsupported Transfer-Encoding \"\(given)\""))
            }
            return .success(.chunkSize(at: bodyStart))
        }
        if framing.contentLengthFields > 0 {
            guard framing.contentLengthFields == 1 else {
                let given = headers.values(for: "Content-Length").joined(separator: ", ")
                return .failure(HTTPError(.malformed, "more than one Content-Length (\(given))"))
            }
            guard let length = framing.contentLength else {
                let given = headers["Content-Length"] ?? ""
                return .failure(HTTPError(.malformed, "invalid Content-Length \"\(given)\""))
            }
            guard length <= limits.maxBodyBytes else {
                return .failure(HTTPError(.tooLarge, "the body of \(length) bytes exceeds \(limits.maxBodyBytes) bytes"))
            }
            return .success(.fixedBody(start: bodyStart, length: length))
        }
        keepAlive = false
        return .success(.untilClose(start: bodyStart))
    }

    /// `chunk-size [ chunk-ext ]` of RFC 9112 7.1.1, the line without its CRLF.
    /// Extensions are checked against the grammar and ignored.
    private func readChunkSize(_ line: ArraySlice<UInt8>) -> Result<Int, HTTPError> {
        var size = 0
        var index = line.startIndex
        while index < line.endIndex, let digit = hexValue(line[index]) {
            guard size <= (Int.max >> 4) else {
                return .failure(HTTPError(.tooLarge, "a chunk size does not fit in 64 bits"))
            }
            size = size << 4 | digit
            index += 1
        }
        guard index > line.startIndex else {
            return .failure(HTTPError(.malformed, "a chunk size is not hexadecimal"))
        }
        guard readChunkExtensions(line[index...]) else {
            let shown = String(decoding: line[index...].prefix(40), as: UTF8.self)
            return .failure(HTTPError(.malformed, "invalid chunk extension \"\(shown)\""))
        }
        return .success(size)
    }

    /// Whether `text` is `*( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )`:
    /// names are tokens, values tokens or quoted-strings. BWS only ever precedes
    /// `;` or `=`, so whitespace at the end of the line is refused.
    private func readChunkExtensions(_ text: ArraySlice<UInt8>) -> Bool {
        var index = text.startIndex
        func skipBlanks() {
            while index < text.endIndex, text[index] == 32 || text[index] == 9 { index += 1 }
        }
        func skipToken() -> Bool {
            let first = index
            while index < text.endIndex, isTokenByte(text[index]) { index += 1 }
            return index > first
        }
        while index < text.endIndex {
            skipBlanks()
            guard index < text.endIndex, text[index] == UInt8(ascii: ";") else { return false }
            index += 1
            skipBlanks()
            guard skipToken() else { return false }
            let afterName = index
            skipBlanks()
            guard index < text.endIndex, text[index] == UInt8(ascii: "=") else {
                index = afterName
                continue
            }
            index += 1
            skipBlanks()
            if index < text.endIndex, text[index] == UInt8(ascii: "\"") {
                guard let end = quotedStringEnd(text, from: index) else { return false }
                index = end
            } else if !skipToken() {
                return false
            }
        }
        return true
    }
}

/// Where the quoted-string (RFC 9110 5.6.4) opening at `open` ends (just past its
/// closing quote); nil when it is unterminated or holds a byte it may not.
private func quotedStringEnd(_ text: ArraySlice<UInt8>, from open: Int) -> Int? {
    var index = open + 1
    while index < text.endIndex {
        switch text[index] {
        case UInt8(ascii: "\""):
            return index + 1
        case UInt8(ascii: "\\"):
            // quoted-pair: HTAB, SP, VCHAR or obs-text after the backslash.
            guard index + 1 < text.endIndex, isFieldValueByte(text[index + 1]) else { return nil }
            index += 2
        case let byte where isFieldValueByte(byte):
            index += 1
        default:
            return nil
        }
    }
    return nil
}


/// Field-value bytes: HTAB, SP, VCHAR and obs-text; NUL, CR, LF and other controls are not.
@inline(__always)
func isFieldValueByte(_ byte: UInt8) -> Bool {
    (byte >= 32 && byte != 127) || byte == 9
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and line breaks.
    public func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        var slice = Substring(self)
        while let first = slice.first, isSpace(first) { slice = slice.dropFirst() }
        while let last = slice.last, isSpace(last) { slice = slice.dropLast() }
        return String(slice)
    }
}

/// The fields that decide framing and connection reuse, recognised by their
/// bytes as they are read, so that no header is looked up or split afterwards.
private struct FramingFields {
    var contentLengthFields = 0
    /// The value of a lone, well-formed Content-Length (1 to 18 digits).
    var contentLength: Int?
    var transferEncodingFields = 0
    var transferCodings = 0
    var chunkedCodings = 0
    var closeToken = false
    var keepAliveToken = false

    /// Whether the transfer codings are exactly one `chunked`, the only one understood.
    var isChunkedAlone: Bool { transferCodings == 1 && chunkedCodings == 1 }

    /// Notes the field with `name` and `value`, ranges of `bytes`; names are told apart by length first.
    mutating func note(_ bytes: ArraySlice<UInt8>, name: Range<Int>, value: Range<Int>) {
        switch name.count {
        case 14 where bytesEqualIgnoringCase(bytes, name, "content-length"):
            contentLengthFields += 1
            contentLength = decimalValue(bytes, value)
        case 17 where bytesEqualIgnoringCase(bytes, name, "transfer-encoding"):
            transferEncodingFields += 1
            var codings = ListElements(value)
            while let coding = codings.next(in: bytes) {
                transferCodings += 1
                if bytesEqualIgnoringCase(bytes, coding, "chunked") { chunkedCodings += 1 }
            }
        case 10 where bytesEqualIgnoringCase(bytes, name, "connection"):
            var options = ListElements(value)
            while let option = options.next(in: bytes) {
                if bytesEqualIgnoringCase(bytes, option, "close") { closeToken = true }
                if bytesEqualIgnoringCase(bytes, option, "keep-alive") { keepAliveToken = true }
            }
        default:
            break
        }
    }
}

/// The value of 1 to 18 decimal digits (so that it cannot overflow), or nil.
func decimalValue(_ bytes: ArraySlice<UInt8>, _ range: Range<Int>) -> Int? {
    guard range.count >= 1, range.count <= 18 else { return nil }
    var value = 0
    for index in range {
        guard isDigit(bytes[index]) else { return nil }
        value = value * 10 + Int(bytes[index] - 48)
    }
    return value
}

/// A field line's name and trimmed value, and where the next line starts.
struct FieldLine {
    let field: HTTPHeaders.Field
    let next: Int
}

/// What is wrong with a field line; each parser words it as its own error.
enum FieldLineFault: Error {
    /// A line starting with whitespace (obs-fold, RFC 9112 5.2).
    case obsoleteLineFolding
    case noColon
    /// The name (the bytes before the first colon) is empty or not a token.
    case badName(Range<Int>)
    /// A control byte in the value of the field with this name.
    case badValue(name: Range<Int>)

    /// The response parser's error for this fault, `bytes` being the block it was found in.
    func error(in bytes: ArraySlice<UInt8>) -> HTTPError {
        switch self {
        case .obsoleteLineFolding:
            return HTTPError(.malformed, "obsolete line folding (a header line starting with whitespace)")
        case .noColon:
            return HTTPError(.malformed, "a header line without a colon")
        case .badName(let name):
            return HTTPError(.malformed, "invalid header name \"\(String(decoding: bytes[name].prefix(40), as: UTF8.self))\"")
        case .badValue(let name):
            return HTTPError(.malformed, "a control character in the value of header \(String(decoding: bytes[name], as: UTF8.self))")
        }
    }
}

/// Reads the field line at `start` of `block`, `token ":" OWS field-value OWS CRLF`
/// (RFC 9112 5), in one pass. The line's CRLF must be in `block`, with no LF before
/// it and a CR before every LF (as `findBlockEnd` checks).
func readFieldLine(_ block: ArraySlice<UInt8>, at start: Int) -> Result<FieldLine, FieldLineFault> {
    // Read through a Span, whose bounds check is one comparison (an ArraySlice's is two);
    // its offsets start at 0, the block's indices at `base`.
    let bytes = block.span
    let base = block.startIndex
    var index = start - base
    // The line ends in CR, which is no token byte, so the scans stop within it.
    while isTokenByte(bytes[index]) { index += 1 }
    let colon = index
    guard colon > start - base, bytes[colon] == UInt8(ascii: ":") else {
        return .failure(fieldLineFault(block, at: start))
    }
    index += 1
    while bytes[index] == 32 || bytes[index] == 9 { index += 1 }
    let valueStart = index
    while isFieldValueByte(bytes[index]) { index += 1 }
    // The first byte that is no field-value byte must be the line's CR.
    guard bytes[index] == 13, bytes[index + 1] == 10 else {
        return .failure(.badValue(name: start..<(base + colon)))
    }
    var valueEnd = index
    while valueEnd > valueStart, bytes[valueEnd - 1] == 32 || bytes[valueEnd - 1] == 9 { valueEnd -= 1 }
    return .success(FieldLine(field: HTTPHeaders.Field(name: start..<(base + colon), value: (base + valueStart)..<(base + valueEnd)),
                              next: base + index + 2))
}

/// Why the line at `start` has no good name and colon, told in the order of the grammar.
private func fieldLineFault(_ block: ArraySlice<UInt8>, at start: Int) -> FieldLineFault {
    if block[start] == 32 || block[start] == 9 { return .obsoleteLineFolding }
    var colon = start
    while block[colon] != 10 {
        if block[colon] == UInt8(ascii: ":") { return .badName(start..<colon) }
        colon += 1
    }
    return .noColon
}

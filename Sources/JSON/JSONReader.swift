extension JSON {
    /// The nesting limit `parse` uses unless told otherwise.
    public static let defaultMaxDepth = 64

    /// Returns the one JSON value that `bytes` hold, with only whitespace around it.
    ///
    /// The reader is strict RFC 8259: no comments, trailing commas, single quotes,
    /// leading zeros, NaN or Infinity, no byte-order mark, no raw control characters
    /// in strings, and strings must be valid UTF-8. Choices where RFC 8259 leaves
    /// room:
    /// - a `\uXXXX` escape of a lone UTF-16 surrogate is rejected, because a Swift
    ///   `String` cannot hold one and replacing it would change the text silently;
    /// - a number too large for a `Double` (`1e999`) is rejected rather than read as
    ///   infinity, which JSON cannot write back; one too small to tell from zero
    ///   (`1e-999`) reads as zero;
    /// - object members with the same name are all kept, in order (see `JSONObject`).
    ///
    /// - Parameter maxDepth: how many arrays and objects may nest; `[[1]]` has depth 2.
    ///   The reader keeps its own stack, so even a huge limit cannot overflow the
    ///   thread's stack, but deep values cost memory and are released recursively.
    /// - Throws: `JSONError`, which says what was wrong and at which byte offset
    ///   (counted from the first byte, from 0).
    public static func parse(_ bytes: ArraySlice<UInt8>, maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSON {
        var reader = JSONReader(bytes, maxDepth: maxDepth)
        return try reader.readDocument()
    }

    /// Returns the one JSON value that `bytes` hold; see `parse(_:maxDepth:)` for slices.
    /// - Throws: `JSONError` with the byte offset of the fault.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSON {
        try parse(bytes[...], maxDepth: maxDepth)
    }

    /// Returns the one JSON value that `text` holds, reading its UTF-8 encoding.
    /// - Throws: `JSONError` with the byte offset of the fault.
    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSON {
        try parse(Array(text.utf8)[...], maxDepth: maxDepth)
    }
}

/// Reads one JSON text from bytes, by index, without recursion.
///
/// Containers in progress live on an explicit stack, so nesting depth is bounded
/// by `maxDepth` and by memory, never by the thread's stack.
struct JSONReader {
    // Internal rather than private: JSONReaderStrings.swift and JSONReaderNumbers.swift
    // extend this type.
    let bytes: ArraySlice<UInt8>
    let maxDepth: Int
    /// The absolute index of the next byte to read.
    var index: Int
    /// Reused for strings that contain escapes, so only their final `String` allocates.
    var scratch: [UInt8] = []

    /// A container that has been opened and not yet closed.
    private enum Frame {
        case array([JSON])
        /// `key` is the name of the member whose value is being read.
        case object(JSONObject, key: String)
    }

    init(_ bytes: ArraySlice<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
        self.index = bytes.startIndex
    }

    /// Reads the whole input: one value with optional whitespace around it.
    mutating func readDocument() throws(JSONError) -> JSON {
        try self.refuseByteOrderMark()
        let value = try self.readValue()
        try self.finishDocument()
        return value
    }

    /// Throws when the input starts with a byte-order mark.
    func refuseByteOrderMark() throws(JSONError) {
        // RFC 8259 §8.1: implementations MUST NOT add a byte-order mark; we do not accept one.
        if self.bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw self.error("a byte-order mark is not allowed", at: self.index)
        }
    }

    /// Throws unless only whitespace follows the document's value.
    mutating func finishDocument() throws(JSONError) {
        self.skipWhitespace()
        guard self.index == self.bytes.endIndex else {
            throw self.error("unexpected \(self.found()) after the JSON value", at: self.index)
        }
    }

    /// Reads one value, which may be a nest of arrays and objects.
    private mutating func readValue() throws(JSONError) -> JSON {
        var stack: [Frame] = []
        while true {
            // Going down: read a scalar, or open a container and go round again for
            // its first element or member.
            var value: JSON
            let byte = try self.startValue()
            switch byte {
            case UInt8(ascii: "["):
                if try self.open(.array, depth: stack.count + 1) {
                    value = .array([])
                } else {
                    stack.append(.array([]))
                    continue
                }
            case UInt8(ascii: "{"):
                if try self.open(.object, depth: stack.count + 1) {
                    value = .object(JSONObject())
                } else {
                    let key = try self.readKey()
                    stack.append(.object(JSONObject(), key: key))
                    continue
                }
            default:
                value = try self.readScalar(byte)
            }

            // Going up: give the finished value to its container; a comma sends us
            // down for the next one, a closing bracket finishes the container too.
            ascending: while true {
                guard let frame = stack.popLast() else { return value }
                switch frame {
                case .array(var elements):
                    elements.append(value)
                    if try self.continues(.array) {
                        stack.append(.array(elements))
                        break ascending
                    }
                    value = .array(elements)
                case .object(var members, let key):
                    members.append(key: key, value: value)
                    if try self.continues(.object) {
                        let next = try self.readKey()
                        stack.append(.object(members, key: next))
                        break ascending
                    }
                    value = .object(members)
                }
            }
        }
    }

    /// Reads `"name"` and the `:` after it, leaving the index before the member's value.
    private mutating func readKey() throws(JSONError) -> String {
        // Two statements: in one, `self` would be read before the scan fills `scratch`.
        let key = try self.scanKey(decoding: true)
        return self.text(of: key)
    }

    // MARK: Pieces of the grammar, shared with the path lookup (JSONLookup.swift)

    /// An array or an object.
    enum Container {
        case array, object
    }

    /// Skips whitespace before a value and returns its first byte, which stays at the index.
    mutating func startValue() throws(JSONError) -> UInt8 {
        self.skipWhitespace()
        guard let byte = self.peek() else {
            throw self.error("expected a value but the input ended", at: self.index)
        }
        return byte
    }

    /// Steps into the container whose bracket is at the index, which makes `depth`
    /// containers open; returns true, past the closing bracket, when it is empty.
    mutating func open(_ container: Container, depth: Int) throws(JSONError) -> Bool {
        guard depth <= self.maxDepth else {
            throw self.error(.tooDeep(limit: self.maxDepth), at: self.index)
        }
        self.index += 1
        self.skipWhitespace()
        guard self.peek() == (container == .array ? UInt8(ascii: "]") : UInt8(ascii: "}")) else {
            return false
        }
        self.index += 1
        return true
    }

    /// After an element or a member's value: returns true past a comma (another
    /// one follows), false past the container's closing bracket.
    mutating func continues(_ container: Container) throws(JSONError) -> Bool {
        self.skipWhitespace()
        switch (self.peek(), container) {
        case (UInt8(ascii: ","), _):
            self.index += 1
            return true
        case (UInt8(ascii: "]"), .array), (UInt8(ascii: "}"), .object):
            self.index += 1
            return false
        case (_, .array):
            throw self.error("expected ',' or ']' in an array but found \(self.found())", at: self.index)
        case (_, .object):
            throw self.error("expected ',' or '}' in an object but found \(self.found())", at: self.index)
        }
    }

    /// Checks a member's `"name"` and the `:` after it, leaving the index before
    /// the member's value; see `scanString` for `decoding`.
    mutating func scanKey(decoding: Bool) throws(JSONError) -> ScannedString {
        self.skipWhitespace()
        guard self.peek() == UInt8(ascii: "\"") else {
            throw self.error("expected a member name in double quotes but found \(self.found())", at: self.index)
        }
        let key = try self.scanString(decoding: decoding)
        self.skipWhitespace()
        guard self.peek() == UInt8(ascii: ":") else {
            throw self.error("expected ':' after a member name but found \(self.found())", at: self.index)
        }
        self.index += 1
        return key
    }

    /// A value other than an array or an object, checked.
    enum Scalar {
        case string(ScannedString)
        case number(Double)
        case bool(Bool)
        case null
    }

    /// Reads a string, number or literal starting with `byte`; see `scanString` for `decoding`.
    mutating func scanScalar(_ byte: UInt8, decoding: Bool) throws(JSONError) -> Scalar {
        switch byte {
        case UInt8(ascii: "\""):
            return .string(try self.scanString(decoding: decoding))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try self.readNumber())
        case UInt8(ascii: "t"):
            try self.readLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try self.readLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try self.readLiteral("null")
            return .null
        default:
            throw self.error("expected a value but found \(self.found())", at: self.index)
        }
    }

    /// Reads a string, number or literal starting with `byte` as a value.
    private mutating func readScalar(_ byte: UInt8) throws(JSONError) -> JSON {
        switch try self.scanScalar(byte, decoding: true) {
        case .string(let string): return .string(self.text(of: string))
        case .number(let number): return .number(number)
        case .bool(let truth): return .bool(truth)
        case .null: return .null
        }
    }

    private mutating func readLiteral(_ literal: String) throws(JSONError) {
        guard self.bytes[self.index...].starts(with: literal.utf8) else {
            throw self.error("expected '\(literal)'", at: self.index)
        }
        self.index += literal.utf8.count
    }

    // MARK: Whitespace and bytes

    /// Skips the four whitespace bytes RFC 8259 §2 allows: space, tab, LF, CR.
    mutating func skipWhitespace() {
        while self.index < self.bytes.endIndex {
            switch self.bytes[self.index] {
            case 0x20, 0x09, 0x0A, 0x0D:
                self.index += 1
            default:
                return
            }
        }
    }

    /// Returns the byte at the index, or nil at the end of the input.
    func peek() -> UInt8? {
        self.index < self.bytes.endIndex ? self.bytes[self.index] : nil
    }

    /// Describes the byte at the index for an error message.
    func found() -> String {
        guard let byte = self.peek() else { return "the end of the input" }
        if byte > 0x20 && byte < 0x7F {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        return "byte 0x\(hex(byte))"
    }

    /// Returns a `.syntax` error saying `what` is wrong at absolute index `position`.
    func error(_ what: String, at position: Int) -> JSONError {
        self.error(.syntax(what), at: position)
    }

    /// Returns an error of `kind` at absolute index `position`.
    func error(_ kind: JSONError.Kind, at position: Int) -> JSONError {
        JSONError(kind: kind, offset: position - self.bytes.startIndex)
    }
}

/// Why bytes are not one JSON value: what is wrong, and at which byte.
public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What kind of fault; internal so that kinds can be added later.
    enum Kind: Equatable, Sendable {
        /// Outside RFC 8259's grammar: a missing comma, a leading zero, a bad escape, an unterminated string…
        case syntax
        /// A string's bytes are not well-formed UTF-8 (RFC 3629).
        case invalidUTF8
        /// A `\uXXXX` escape of half a UTF-16 surrogate pair, which a Swift `String` cannot hold.
        case loneSurrogate
        /// Arrays and objects nest deeper than the reader's `maxDepth`.
        case tooDeep
        /// A number beyond a `Double`'s range, which JSON could not write back.
        case numberTooLarge
    }

    let kind: Kind
    /// What is wrong, without where.
    let message: String
    /// Where the fault is: the offset of its byte from the first byte of the input, counting from 0.
    public let offset: Int

    init(_ kind: Kind, _ message: String, offset: Int) {
        self.kind = kind
        self.message = message
        self.offset = offset
    }

    /// "invalid JSON: " and the message, then the byte offset.
    public var description: String { "invalid JSON: \(message) at byte offset \(offset)" }
}

/// Why bytes are not one JSON value: what is wrong, and at which byte.
public struct JSONError: Error, Sendable, CustomStringConvertible {
    /// What kind of fault; internal so that kinds can be added later.
    enum Kind: Sendable {
        /// Outside RFC 8259's grammar (a missing comma, a leading zero, a bad escape,
        /// an unterminated string…); the text says what was expected and found.
        case syntax(String)
        /// A string's bytes are not well-formed UTF-8 (RFC 3629); the text says which.
        case invalidUTF8(String)
        /// A `\uXXXX` escape of half a UTF-16 surrogate pair, which a Swift `String` cannot hold.
        case loneSurrogate(String)
        /// Arrays and objects nest deeper than the reader's `maxDepth`.
        case tooDeep(limit: Int)
        /// A number beyond a `Double`'s range, which JSON could not write back.
        case numberTooLarge
    }

    let kind: Kind
    /// Where the fault is: the offset of its byte from the first byte of the input, counting from 0.
    public let offset: Int

    /// "invalid JSON: ", what is wrong, and the byte offset.
    public var description: String {
        let what: String
        switch kind {
        case .syntax(let text), .invalidUTF8(let text), .loneSurrogate(let text):
            what = text
        case .tooDeep(let limit):
            what = "arrays and objects nest deeper than \(limit)"
        case .numberTooLarge:
            what = "number is too large for a Double (beyond ±1.8e308)"
        }
        return "invalid JSON: \(what) at byte offset \(offset)"
    }
}

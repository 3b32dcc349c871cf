import JSON

/// A YAML text the reader will not read: the 1-based line and what is wrong there.
struct YAMLError: Error, Equatable, CustomStringConvertible {
    let line: Int
    let reason: String

    var description: String { "line \(line): \(reason)" }
}

/// A strict reader for the YAML that kubeconfig files hold (kubectl writes them
/// with go-yaml): block mappings and sequences, plain, single- and
/// double-quoted scalars (folded over several lines too), `null`/`~`/empty,
/// `true`/`false`, the empty flow collections `{}` and `[]`, comments and a
/// leading `---`. Everything else (anchors, aliases, tags, block scalars,
/// non-empty flow collections, tab indentation, duplicate keys, a second
/// document) is a `YAMLError` naming the line, never a guess.
///
/// Plain scalars other than null and booleans stay strings, as kubeconfig
/// fields are strings (kubectl reads `namespace: 123` as "123").
enum YAML {
    /// Returns the document as JSON values; throws `YAMLError` for anything outside the subset.
    static func parse(_ bytes: [UInt8]) throws(YAMLError) -> JSON {
        var reader = try YAMLReader(bytes)
        return try reader.document()
    }
}

/// The block structure: lines, indentation, mappings and sequences. Scalars are
/// in YAMLScalars.swift.
struct YAMLReader {
    /// One source line. `start` is where its content begins and `end` where its
    /// trailing blanks do (`rawEnd` keeps them, for quoted scalars). A sequence
    /// item's content is read as a line of its own by moving `indent` and `start` past the `- `.
    struct Line {
        let number: Int
        let begin: Int
        var indent: Int
        var start: Int
        let end: Int
        let rawEnd: Int
    }

    let bytes: [UInt8]
    var lines: [Line] = []
    /// The next line to read.
    var index = 0
    private var depth = 0
    private static let maxDepth = 64

    init(_ source: [UInt8]) throws(YAMLError) {
        bytes = source
        var offset = source.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var number = 1
        while offset < source.count {
            var end = offset
            while end < source.count && source[end] != 0x0A { end += 1 }
            let next = end + 1
            if end > offset && source[end - 1] == 0x0D { end -= 1 }
            var start = offset
            while start < end && source[start] == 0x20 { start += 1 }
            let indent = start - offset
            var content = start
            while content < end && (source[content] == 0x20 || source[content] == 0x09) { content += 1 }
            if content > start && content < end && source[content] != 0x23 {
                throw YAMLError(line: number, reason: "a tab in the indentation (YAML indents with spaces only)")
            }
            // Trailing blanks are not content; a blank line is one with start == end.
            var last = end
            while last > content && (source[last - 1] == 0x20 || source[last - 1] == 0x09) { last -= 1 }
            if String(validating: source[offset..<end], as: UTF8.self) == nil {
                throw YAMLError(line: number, reason: "the line is not valid UTF-8")
            }
            lines.append(Line(number: number, begin: offset, indent: indent, start: content, end: last, rawEnd: end))
            offset = next
            number += 1
        }
    }

    /// Reads the one document; an empty text is null.
    mutating func document() throws(YAMLError) -> JSON {
        guard let first = nextContentLine() else { return .null }
        let line = lines[first]
        if line.indent == 0 && bytes[line.start] == UInt8(ascii: "%") {
            throw YAMLError(line: line.number, reason: "directives (%) are not supported")
        }
        if isDocumentMarker(line, UInt8(ascii: "-")) {
            let after = skipBlanks(line.start + 3, line.end)
            guard after == line.end || bytes[after] == UInt8(ascii: "#") else {
                throw YAMLError(line: line.number, reason: "content on the --- line is not supported")
            }
            index = first + 1
        }
        var value = JSON.null
        if let start = nextContentLine(), !isDocumentMarker(lines[start]) {
            value = try node(at: start, parent: -1)
        }
        guard let rest = nextContentLine() else { return value }
        let line2 = lines[rest]
        if isDocumentMarker(line2, UInt8(ascii: ".")) {
            index = rest + 1
            if let more = nextContentLine() {
                throw YAMLError(line: lines[more].number, reason: "content after the document end (...)")
            }
            return value
        }
        if isDocumentMarker(line2, UInt8(ascii: "-")) {
            throw YAMLError(line: line2.number, reason: "a second document (---) is not supported")
        }
        throw YAMLError(line: line2.number, reason: "unexpected content (check the indentation)")
    }

    /// Reads the node whose content starts line `i`; `parent` is the indentation
    /// of the mapping or sequence that holds it (-1 at the top).
    mutating func node(at i: Int, parent: Int) throws(YAMLError) -> JSON {
        index = i
        let line = lines[i]
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else {
            throw YAMLError(line: line.number, reason: "nested deeper than \(Self.maxDepth) levels")
        }
        if isSequenceItem(line) { return try sequence(indent: line.indent) }
        if try mappingKey(line) != nil { return try mapping(indent: line.indent) }
        return try inlineValue(line: i, from: line.start, parent: parent)
    }

    private mutating func mapping(indent: Int) throws(YAMLError) -> JSON {
        var object = JSONObject()
        // A set, not `object[key]`: that searches every member, which made a mapping quadratic in its keys.
        var seen = Set<String>()
        while let i = nextContentLine() {
            let line = lines[i]
            if line.indent < indent || isDocumentMarker(line) { break }
            guard line.indent == indent else {
                throw YAMLError(line: line.number, reason: "unexpected indentation")
            }
            guard let (key, after) = try mappingKey(line) else {
                if isSequenceItem(line) {
                    throw YAMLError(line: line.number, reason: "a sequence item where a `key: value` was expected")
                }
                try rejectIndicator(line, at: line.start)
                throw YAMLError(line: line.number, reason: "expected `key: value`")
            }
            // go-yaml and kubectl reject a repeated key instead of picking one.
            guard seen.insert(key).inserted else {
                throw YAMLError(line: line.number, reason: "duplicate key \"\(key)\"")
            }
            object.append(key: key, value: try value(afterKeyOn: i, from: after, indent: indent))
        }
        return .object(object)
    }

    /// The value of the key on line `i`: on the same line, or on the lines after it.
    private mutating func value(afterKeyOn i: Int, from after: Int, indent: Int) throws(YAMLError) -> JSON {
        let line = lines[i]
        let start = skipBlanks(after, line.end)
        if start < line.end && bytes[start] != UInt8(ascii: "#") {
            if bytes[start] == UInt8(ascii: "-") && isBlankOrEnd(start + 1, line.end) {
                throw YAMLError(line: line.number, reason: "a sequence cannot start on its key's line")
            }
            return try inlineValue(line: i, from: start, parent: indent)
        }
        index = i + 1
        guard let next = nextContentLine(), !isDocumentMarker(lines[next]) else { return .null }
        if lines[next].indent > indent { return try node(at: next, parent: indent) }
        // kubectl writes a mapping's sequences at the key's own indentation.
        if lines[next].indent == indent && isSequenceItem(lines[next]) { return try sequence(indent: indent) }
        return .null
    }

    private mutating func sequence(indent: Int) throws(YAMLError) -> JSON {
        var items: [JSON] = []
        while let i = nextContentLine() {
            let line = lines[i]
            if line.indent < indent || isDocumentMarker(line) { break }
            guard line.indent == indent else {
                throw YAMLError(line: line.number, reason: "unexpected indentation")
            }
            guard isSequenceItem(line) else { break }
            let start = skipBlanks(line.start + 1, line.end)
            if start == line.end || bytes[start] == UInt8(ascii: "#") {
                index = i + 1
                if let next = nextContentLine(), lines[next].indent > indent, !isDocumentMarker(lines[next]) {
                    items.append(try node(at: next, parent: indent))
                } else {
                    items.append(.null)
                }
            } else {
                // `- key: value` starts a mapping indented to where `key` is.
                lines[i].indent = start - line.begin
                lines[i].start = start
                items.append(try node(at: i, parent: indent))
            }
        }
        return .array(items)
    }

    // MARK: - Lines

    /// Moves `index` past blank and comment lines; the next line with content, or nil at the end.
    mutating func nextContentLine() -> Int? {
        while index < lines.count && isBlankOrComment(lines[index]) { index += 1 }
        return index < lines.count ? index : nil
    }

    func isBlankOrComment(_ line: Line) -> Bool {
        line.start == line.end || bytes[line.start] == UInt8(ascii: "#")
    }

    func isSequenceItem(_ line: Line) -> Bool {
        bytes[line.start] == UInt8(ascii: "-") && isBlankOrEnd(line.start + 1, line.end)
    }

    /// `---` or `...` (or only the one `marker` names) at the very start of a source line.
    func isDocumentMarker(_ line: Line, _ marker: UInt8? = nil) -> Bool {
        guard line.start == line.begin, line.end - line.start >= 3, isBlankOrEnd(line.start + 3, line.end) else {
            return false
        }
        let first = bytes[line.start]
        guard first == UInt8(ascii: "-") || first == UInt8(ascii: ".") else { return false }
        if let marker, first != marker { return false }
        return bytes[line.start + 1] == first && bytes[line.start + 2] == first
    }

    func isBlankOrEnd(_ offset: Int, _ end: Int) -> Bool {
        offset >= end || bytes[offset] == 0x20 || bytes[offset] == 0x09
    }

    func skipBlanks(_ offset: Int, _ end: Int) -> Int {
        var position = offset
        while position < end && (bytes[position] == 0x20 || bytes[position] == 0x09) { position += 1 }
        return position
    }
}

import JSON

/// Keys and scalars: plain, single- and double-quoted, over one line or folded over several.
extension YAMLReader {
    /// The key of a `key: value` line and the offset just past its colon, or nil when the line holds no key.
    func mappingKey(_ line: Line) throws(YAMLError) -> (key: String, after: Int)? {
        let first = bytes[line.start]
        if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") {
            guard let quoted = try scanQuoted(line: line.number - 1, from: line.start, parent: -1, oneLine: true) else {
                return nil
            }
            let colon = skipBlanks(quoted.end, line.end)
            guard colon < line.end, bytes[colon] == UInt8(ascii: ":"), isBlankOrEnd(colon + 1, line.end) else { return nil }
            return (String(decoding: quoted.text, as: UTF8.self), colon + 1)
        }
        guard indicatorProblem(line, at: line.start) == nil else { return nil }
        var position = line.start
        while position < line.end {
            let byte = bytes[position]
            if byte == UInt8(ascii: ":") && isBlankOrEnd(position + 1, line.end) {
                var last = position
                while last > line.start && (bytes[last - 1] == 0x20 || bytes[last - 1] == 0x09) { last -= 1 }
                return (String(decoding: bytes[line.start..<last], as: UTF8.self), position + 1)
            }
            if byte == UInt8(ascii: "#") && position > line.start && (bytes[position - 1] == 0x20 || bytes[position - 1] == 0x09) { return nil }
            position += 1
        }
        return nil
    }

    /// Reads the scalar (or `{}`/`[]`) starting at `start` on line `i`, moving `index` past its last line.
    mutating func inlineValue(line i: Int, from start: Int, parent: Int) throws(YAMLError) -> JSON {
        let line = lines[i]
        let first = bytes[start]
        if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") {
            guard let quoted = try scanQuoted(line: i, from: start, parent: parent, oneLine: false) else {
                preconditionFailure("a multi-line quoted scalar ended without a result")
            }
            try expectLineEnd(lines[quoted.line], from: quoted.end, after: "the quoted scalar")
            index = quoted.line + 1
            return .string(String(decoding: quoted.text, as: UTF8.self))
        }
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            let close = UInt8(ascii: first == UInt8(ascii: "{") ? "}" : "]")
            let inner = skipBlanks(start + 1, line.end)
            guard inner < line.end, bytes[inner] == close else {
                throw YAMLError(line: line.number, reason: "flow collections other than {} and [] are not supported")
            }
            try expectLineEnd(line, from: inner + 1, after: "the empty collection")
            index = i + 1
            return first == UInt8(ascii: "{") ? .object(JSONObject()) : .array([])
        }
        if let problem = indicatorProblem(line, at: start) {
            throw YAMLError(line: line.number, reason: problem)
        }
        return try plain(line: i, from: start, parent: parent)
    }

    /// Throws the specific complaint when `offset` holds a YAML indicator this reader does not take.
    func rejectIndicator(_ line: Line, at offset: Int) throws(YAMLError) {
        if let problem = indicatorProblem(line, at: offset) {
            throw YAMLError(line: line.number, reason: problem)
        }
    }

    /// Why a plain scalar cannot start at `offset`, or nil when it can.
    private func indicatorProblem(_ line: Line, at offset: Int) -> String? {
        let spaced = isBlankOrEnd(offset + 1, line.end)
        switch bytes[offset] {
        case UInt8(ascii: "&"): return "anchors (&) are not supported"
        case UInt8(ascii: "*"): return "aliases (*) are not supported"
        case UInt8(ascii: "!"): return "tags (!) are not supported"
        case UInt8(ascii: "|"), UInt8(ascii: ">"): return "block scalars (| and >) are not supported"
        case UInt8(ascii: "{"), UInt8(ascii: "["): return "flow collections other than {} and [] are not supported"
        case UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: ","): return "unexpected \"\(Character(Unicode.Scalar(bytes[offset])))\""
        case UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"): return "\"\(Character(Unicode.Scalar(bytes[offset])))\" cannot start a plain scalar (quote it)"
        case UInt8(ascii: "?") where spaced: return "complex keys (?) are not supported"
        case UInt8(ascii: ":") where spaced: return "a key is missing before \":\""
        case UInt8(ascii: "-") where spaced: return "a sequence item is not allowed here"
        default: return nil
        }
    }

    /// A plain scalar: this line's text and any more-indented lines after it, folded with spaces.
    private mutating func plain(line i: Int, from start: Int, parent: Int) throws(YAMLError) -> JSON {
        var segment = try plainSegment(lines[i], from: start)
        var text = Array(bytes[start..<segment.end])
        var last = i
        var next = i + 1
        var blanks = 0
        while !segment.endsInComment && next < lines.count {
            let line = lines[next]
            if line.start == line.end {
                blanks += 1
                next += 1
                continue
            }
            if bytes[line.start] == UInt8(ascii: "#") || line.indent <= parent || isDocumentMarker(line) { break }
            segment = try plainSegment(line, from: line.start)
            // YAML folding: one line break is a space, each empty line a line feed.
            text += blanks == 0 ? [0x20] : [UInt8](repeating: 0x0A, count: blanks)
            text += bytes[line.start..<segment.end]
            blanks = 0
            last = next
            next += 1
        }
        index = last + 1
        let string = String(decoding: text, as: UTF8.self)
        return last == i ? Self.resolvePlain(string) : .string(string)
    }

    /// Where the plain text on `line` from `start` ends (trailing blanks and any comment left out).
    private func plainSegment(_ line: Line, from start: Int) throws(YAMLError) -> (end: Int, endsInComment: Bool) {
        var position = start
        var end = line.end
        var comment = false
        while position < line.end {
            let byte = bytes[position]
            if byte == UInt8(ascii: ":") && isBlankOrEnd(position + 1, line.end) {
                throw YAMLError(line: line.number, reason: "\": \" inside a plain value (quote the value, or check the indentation)")
            }
            if byte == UInt8(ascii: "#") && position > start && (bytes[position - 1] == 0x20 || bytes[position - 1] == 0x09) {
                end = position
                comment = true
                break
            }
            position += 1
        }
        while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
        return (end, comment)
    }

    /// The YAML 1.2 core schema's null and booleans; every other plain scalar stays text.
    static func resolvePlain(_ text: String) -> JSON {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default: return .string(text)
        }
    }

    /// Only blanks or a comment may follow a value on its line.
    private func expectLineEnd(_ line: Line, from offset: Int, after what: String) throws(YAMLError) {
        let position = skipBlanks(offset, line.end)
        if position == line.end || (position > offset && bytes[position] == UInt8(ascii: "#")) { return }
        throw YAMLError(line: line.number, reason: "unexpected text after \(what)")
    }

    /// Reads the quoted scalar whose quote is at `offset` on line `i`. Continuation
    /// lines must be indented more than `parent`. Returns the text, the line it
    /// closed on and the offset after the closing quote; nil when `oneLine` and it does not close on line `i`.
    func scanQuoted(line i: Int, from offset: Int, parent: Int, oneLine: Bool) throws(YAMLError) -> (text: [UInt8], line: Int, end: Int)? {
        let double = bytes[offset] == UInt8(ascii: "\"")
        var text: [UInt8] = []
        var kept = 0  // text before this is never trimmed: earlier lines and escapes
        var current = i
        var position = offset + 1
        var escapedBreak = false
        while true {
            let line = lines[current]
            if position >= line.rawEnd {
                if oneLine { return nil }
                if !escapedBreak {
                    while text.count > kept, let last = text.last, last == 0x20 || last == 0x09 { text.removeLast() }
                }
                var blanks = 0
                var next = current + 1
                while next < lines.count && lines[next].start == lines[next].end {
                    blanks += 1
                    next += 1
                }
                guard next < lines.count else {
                    throw YAMLError(line: lines[i].number, reason: "the quoted scalar is not closed")
                }
                let nextLine = lines[next]
                if isDocumentMarker(nextLine) {
                    throw YAMLError(line: nextLine.number, reason: "a document marker inside a quoted scalar")
                }
                guard nextLine.indent > parent else {
                    throw YAMLError(line: nextLine.number, reason: "the quoted scalar's next line must be indented more than its parent")
                }
                // Folding: a line break is a space, each empty line a line feed; an escaped break is nothing.
                if blanks > 0 {
                    text += [UInt8](repeating: 0x0A, count: blanks)
                } else if !escapedBreak {
                    text.append(0x20)
                }
                escapedBreak = false
                kept = text.count
                current = next
                position = nextLine.start
                continue
            }
            let byte = bytes[position]
            if !double {
                if byte == UInt8(ascii: "'") {
                    guard position + 1 < line.rawEnd && bytes[position + 1] == UInt8(ascii: "'") else {
                        return (text, current, position + 1)
                    }
                    position += 1
                }
                text.append(byte)
                position += 1
                continue
            }
            if byte == UInt8(ascii: "\"") { return (text, current, position + 1) }
            if byte == UInt8(ascii: "\\") {
                if position + 1 >= line.rawEnd {
                    escapedBreak = true
                    position += 1
                    continue
                }
                let (scalar, length) = try escape(at: position + 1, line: line)
                text += scalar
                kept = text.count
                position += 1 + length
                continue
            }
            text.append(byte)
            position += 1
        }
    }

    /// The UTF-8 of the escape after a backslash at `offset`, and how many bytes it took.
    private func escape(at offset: Int, line: Line) throws(YAMLError) -> ([UInt8], Int) {
        let letter = bytes[offset]
        var value: UInt32
        var length = 1
        if let known = Self.simpleEscape(letter) {
            value = known
        } else {
            let digits = letter == UInt8(ascii: "x") ? 2 : letter == UInt8(ascii: "u") ? 4 : letter == UInt8(ascii: "U") ? 8 : 0
            guard digits > 0 else {
                throw YAMLError(line: line.number, reason: "unknown escape \\\(Character(Unicode.Scalar(letter)))")
            }
            value = 0
            for position in (offset + 1)..<(offset + 1 + digits) {
                guard position < line.rawEnd, let digit = hexValue(bytes[position]) else {
                    throw YAMLError(line: line.number, reason: "\\\(Character(Unicode.Scalar(letter))) needs \(digits) hex digits")
                }
                value = value << 4 | digit
            }
            length += digits
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw YAMLError(line: line.number, reason: "an escape names no Unicode character")
        }
        return (Array(String(Character(scalar)).utf8), length)
    }

    /// The character a one-letter escape stands for (YAML 1.2 §5.7).
    private static func simpleEscape(_ letter: UInt8) -> UInt32? {
        switch letter {
        case UInt8(ascii: "0"): return 0
        case UInt8(ascii: "a"): return 7
        case UInt8(ascii: "b"): return 8
        case UInt8(ascii: "t"), 0x09: return 9
        case UInt8(ascii: "n"): return 10
        case UInt8(ascii: "v"): return 11
        case UInt8(ascii: "f"): return 12
        case UInt8(ascii: "r"): return 13
        case UInt8(ascii: "e"): return 0x1B
        case 0x20, UInt8(ascii: "\""), UInt8(ascii: "/"), UInt8(ascii: "\\"): return UInt32(letter)
        case UInt8(ascii: "N"): return 0x85
        case UInt8(ascii: "_"): return 0xA0
        case UInt8(ascii: "L"): return 0x2028
        case UInt8(ascii: "P"): return 0x2029
        default: return nil
        }
    }

    private func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}

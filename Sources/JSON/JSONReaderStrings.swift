// How JSONReader reads strings: RFC 8259 §7 escapes and strictly checked UTF-8.

/// Where a string's text is, once `scanString` has checked it.
struct ScannedString {
    /// The bytes between the quotes, as written.
    let content: Range<Int>
    /// Whether it has escapes: then, when it was scanned with `decoding`, its
    /// UTF-8 is in `scratch` instead.
    let escaped: Bool
}

extension JSONReader {
    /// Returns the text of a string scanned with `decoding`.
    func text(of string: ScannedString) -> String {
        // Already checked, so decoding repairs nothing.
        if string.escaped {
            return String(decoding: self.scratch, as: UTF8.self)
        }
        return String(decoding: self.bytes[string.content], as: UTF8.self)
    }

    /// Returns whether a string scanned with `decoding` reads `name` (UTF-8), escapes decoded.
    func string(_ string: ScannedString, equals name: [UInt8]) -> Bool {
        if string.escaped {
            return self.scratch == name
        }
        guard string.content.count == name.count else { return false }
        var position = string.content.lowerBound
        for byte in name {
            guard self.bytes[position] == byte else { return false }
            position += 1
        }
        return true
    }

    /// Checks the string whose opening quote is at the index and leaves the index
    /// after the closing quote. With `decoding`, a string with escapes has its
    /// UTF-8 built in `scratch`; one without is only checked in place, never copied.
    mutating func scanString(decoding: Bool) throws(JSONError) -> ScannedString {
        let opening = self.index
        self.index += 1
        let start = self.index
        var escaped = false
        // Whether bytes go to `scratch`: from the first escape on, when decoding.
        var copying = false
        while self.index < self.bytes.endIndex {
            let byte = self.bytes[self.index]
            switch byte {
            case UInt8(ascii: "\""):
                let content = start..<self.index
                self.index += 1
                return ScannedString(content: content, escaped: escaped)
            case UInt8(ascii: "\\"):
                if !escaped && decoding {
                    self.scratch.removeAll(keepingCapacity: true)
                    self.scratch.append(contentsOf: self.bytes[start..<self.index])
                    copying = true
                }
                escaped = true
                try self.readEscape(decoding: decoding)
            case 0x20..<0x80:
                // Most bytes: printable ASCII, checked here without a call, a run at a time.
                if copying {
                    self.scratch.append(byte)
                    self.index += 1
                } else {
                    self.index = self.endOfPlainText(from: self.index + 1)
                }
            default:
                let length = try self.characterLength(byte)
                if copying {
                    self.scratch.append(contentsOf: self.bytes[self.index..<self.index + length])
                }
                self.index += length
            }
        }
        throw self.error("unterminated string", at: opening)
    }

    /// Returns the index of the first byte from `index` on that is not printable
    /// ASCII, or is a quote or a backslash.
    @inline(__always)
    private func endOfPlainText(from index: Int) -> Int {
        var index = index
        while index < self.bytes.endIndex {
            let byte = self.bytes[index]
            guard byte >= 0x20 && byte < 0x80 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") else { break }
            index += 1
        }
        return index
    }

    /// Returns how many bytes the unescaped character starting with `byte`, which
    /// is not printable ASCII, takes.
    private func characterLength(_ byte: UInt8) throws(JSONError) -> Int {
        guard byte >= 0x80 else {
            // RFC 8259 §7: U+0000 through U+001F must be escaped (0x7F need not be).
            throw self.error("control character 0x\(hex(byte)) must be escaped in a string", at: self.index)
        }
        return try self.utf8SequenceLength()
    }

    /// Returns the length of the well-formed UTF-8 sequence at the index, which
    /// starts with a byte of 0x80 or more. RFC 3629 §4 rules out overlong forms,
    /// encoded surrogates and anything above U+10FFFF.
    private func utf8SequenceLength() throws(JSONError) -> Int {
        let lead = self.bytes[self.index]
        let length: Int
        var second: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; second = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; second = 0x80...0x9F
        case 0xF0: length = 4; second = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; second = 0x80...0x8F
        default:
            throw self.error(.invalidUTF8("invalid UTF-8: byte 0x\(hex(lead)) cannot start a character"), at: self.index)
        }
        var valid = self.index + length <= self.bytes.endIndex && second.contains(self.bytes[self.index + 1])
        var offset = 2
        while valid && offset < length {
            valid = (0x80...0xBF).contains(self.bytes[self.index + offset])
            offset += 1
        }
        guard valid else {
            throw self.error(.invalidUTF8("invalid UTF-8: a broken sequence starts with byte 0x\(hex(lead))"), at: self.index)
        }
        return length
    }

    /// Checks the escape at the index and steps over it; with `decoding`, appends its character to `scratch`.
    private mutating func readEscape(decoding: Bool) throws(JSONError) {
        let escape = self.index
        guard escape + 1 < self.bytes.endIndex else {
            throw self.error("unterminated escape", at: escape)
        }
        let letter = self.bytes[escape + 1]
        self.index += 2
        let byte: UInt8
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): byte = letter
        case UInt8(ascii: "b"): byte = 0x08
        case UInt8(ascii: "f"): byte = 0x0C
        case UInt8(ascii: "n"): byte = 0x0A
        case UInt8(ascii: "r"): byte = 0x0D
        case UInt8(ascii: "t"): byte = 0x09
        case UInt8(ascii: "u"):
            let scalar = try self.readUnicodeEscape(escape)
            if decoding {
                UTF8.encode(scalar) { self.scratch.append($0) }
            }
            return
        default:
            self.index = escape + 1
            throw self.error("invalid escape: \\ followed by \(self.found())", at: escape)
        }
        if decoding {
            self.scratch.append(byte)
        }
    }

    /// Reads the hex digits of a `\\u` escape at `escape` (and of its low surrogate
    /// when it is a high one) and returns the character.
    private mutating func readUnicodeEscape(_ escape: Int) throws(JSONError) -> Unicode.Scalar {
        let unit = try self.readHexDigits(escape)
        switch unit {
        case 0xD800...0xDBFF:
            // RFC 8259 §7: a character beyond U+FFFF is written as a UTF-16 surrogate pair.
            let lowEscape = self.index
            guard self.bytes[lowEscape...].starts(with: [UInt8(ascii: "\\"), UInt8(ascii: "u")]) else {
                throw self.error(.loneSurrogate("lone surrogate \\u\(hex4(unit)): its low half must follow"), at: escape)
            }
            self.index += 2
            let low = try self.readHexDigits(lowEscape)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw self.error(.loneSurrogate("lone surrogate \\u\(hex4(unit)): followed by \\u\(hex4(low)), not a low half"), at: escape)
            }
            let value = 0x10000 + (UInt32(unit - 0xD800) << 10) + UInt32(low - 0xDC00)
            guard let scalar = Unicode.Scalar(value) else {
                preconditionFailure("surrogate pair \(value) out of range")
            }
            return scalar
        case 0xDC00...0xDFFF:
            throw self.error(.loneSurrogate("lone surrogate \\u\(hex4(unit)): a low half without a high half"), at: escape)
        default:
            guard let scalar = Unicode.Scalar(unit) else {
                preconditionFailure("non-surrogate \(unit) is not a scalar")
            }
            return scalar
        }
    }

    /// Reads the four hex digits after `\\u`, for the escape at `escape`.
    private mutating func readHexDigits(_ escape: Int) throws(JSONError) -> UInt16 {
        var unit: UInt16 = 0
        for _ in 0..<4 {
            let digit: UInt8
            switch self.peek() {
            case let byte? where (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte):
                digit = byte - UInt8(ascii: "0")
            case let byte? where (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte):
                digit = byte - UInt8(ascii: "a") + 10
            case let byte? where (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte):
                digit = byte - UInt8(ascii: "A") + 10
            default:
                throw self.error("\\u must be followed by four hex digits", at: escape)
            }
            unit = unit << 4 | UInt16(digit)
            self.index += 1
        }
        return unit
    }
}

/// Returns `unit` as four upper-case hex digits.
func hex4(_ unit: UInt16) -> String {
    hex(UInt8(unit >> 8)) + hex(UInt8(unit & 0xFF))
}

/// Returns `byte` as two upper-case hex digits.
func hex(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16, uppercase: true)
    return byte < 0x10 ? "0" + digits : digits
}

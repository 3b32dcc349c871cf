// How JSONReader reads strings: RFC 8259 §7 escapes and strictly checked UTF-8.

extension JSONReader {
    /// Reads a string whose opening quote is at the index; leaves the index after
    /// the closing quote.
    mutating func readString() throws(JSONError) -> String {
        let opening = self.index
        self.index += 1
        let start = self.index
        // Most strings have no escapes: check them in place and copy them once.
        while self.index < self.bytes.endIndex {
            let byte = self.bytes[self.index]
            switch byte {
            case UInt8(ascii: "\""):
                // Already checked, so decoding repairs nothing.
                let text = String(decoding: self.bytes[start..<self.index], as: UTF8.self)
                self.index += 1
                return text
            case UInt8(ascii: "\\"):
                return try self.readEscapedString(from: start, opening: opening)
            default:
                self.index += try self.characterLength(byte)
            }
        }
        throw self.error("unterminated string", at: opening)
    }

    /// Finishes a string that has an escape at the index, building its UTF-8 in `scratch`.
    private mutating func readEscapedString(from start: Int, opening: Int) throws(JSONError) -> String {
        self.scratch.removeAll(keepingCapacity: true)
        self.scratch.append(contentsOf: self.bytes[start..<self.index])
        while self.index < self.bytes.endIndex {
            let byte = self.bytes[self.index]
            switch byte {
            case UInt8(ascii: "\""):
                let text = String(decoding: self.scratch, as: UTF8.self)
                self.index += 1
                return text
            case UInt8(ascii: "\\"):
                try self.readEscape()
            default:
                let length = try self.characterLength(byte)
                self.scratch.append(contentsOf: self.bytes[self.index..<self.index + length])
                self.index += length
            }
        }
        throw self.error("unterminated string", at: opening)
    }

    /// Returns how many bytes the unescaped character starting with `byte` takes.
    private func characterLength(_ byte: UInt8) throws(JSONError) -> Int {
        switch byte {
        case 0x20..<0x80:
            return 1
        case 0x00..<0x20:
            // RFC 8259 §7: U+0000 through U+001F must be escaped.
            throw self.error("control character 0x\(hex(byte)) must be escaped in a string", at: self.index)
        default:
            return try self.utf8SequenceLength()
        }
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

    /// Reads the escape at the index into `scratch`.
    private mutating func readEscape() throws(JSONError) {
        let escape = self.index
        guard escape + 1 < self.bytes.endIndex else {
            throw self.error("unterminated escape", at: escape)
        }
        let letter = self.bytes[escape + 1]
        self.index += 2
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"):
            self.scratch.append(letter)
        case UInt8(ascii: "b"): self.scratch.append(0x08)
        case UInt8(ascii: "f"): self.scratch.append(0x0C)
        case UInt8(ascii: "n"): self.scratch.append(0x0A)
        case UInt8(ascii: "r"): self.scratch.append(0x0D)
        case UInt8(ascii: "t"): self.scratch.append(0x09)
        case UInt8(ascii: "u"):
            let scalar = try self.readUnicodeEscape(escape)
            UTF8.encode(scalar) { self.scratch.append($0) }
        default:
            self.index = escape + 1
            throw self.error("invalid escape: \\ followed by \(self.found())", at: escape)
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

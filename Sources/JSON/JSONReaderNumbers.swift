// How JSONReader reads numbers: the RFC 8259 §6 grammar, then the nearest Double.

extension JSONReader {
    /// Reads a number starting at the index (a '-' or a digit) and returns the
    /// `Double` nearest to its text.
    /// - Throws: `JSONError` for text outside the grammar, or a value beyond
    ///   `Double`'s range (JSON cannot write infinity back, so it is not read either).
    mutating func readNumber() throws(JSONError) -> Double {
        let start = self.index
        let negative = self.peek() == UInt8(ascii: "-")
        if negative {
            self.index += 1
        }
        // The digits, without the point, as an integer while they fit, so that
        // short numbers can skip the general decimal-to-binary conversion.
        var mantissa: UInt64 = 0
        var digits = 0

        guard let first = self.peek(), isDigit(first) else {
            throw self.error("expected a digit after '-' but found \(self.found())", at: self.index)
        }
        if first == UInt8(ascii: "0") {
            self.index += 1
            if let next = self.peek(), isDigit(next) {
                throw self.error("a number must not have a leading zero", at: start)
            }
        } else {
            self.readDigits(into: &mantissa, counting: &digits)
        }

        var fractionDigits = 0
        if self.peek() == UInt8(ascii: ".") {
            self.index += 1
            guard let next = self.peek(), isDigit(next) else {
                throw self.error("expected a digit after '.' but found \(self.found())", at: self.index)
            }
            let before = digits
            self.readDigits(into: &mantissa, counting: &digits)
            fractionDigits = digits - before
        }

        var exponent = 0
        if self.peek() == UInt8(ascii: "e") || self.peek() == UInt8(ascii: "E") {
            self.index += 1
            var exponentNegative = false
            if self.peek() == UInt8(ascii: "+") {
                self.index += 1
            } else if self.peek() == UInt8(ascii: "-") {
                exponentNegative = true
                self.index += 1
            }
            guard let next = self.peek(), isDigit(next) else {
                throw self.error("expected a digit in the exponent but found \(self.found())", at: self.index)
            }
            while let byte = self.peek(), isDigit(byte) {
                // Saturate: past this the fast path is out of reach anyway, and
                // the general conversion below reads the exponent from the text.
                if exponent < 100_000 {
                    exponent = exponent * 10 + Int(byte - UInt8(ascii: "0"))
                }
                self.index += 1
            }
            if exponentNegative {
                exponent = -exponent
            }
        }

        // Clinger's fast path: an integer below 2^53 and a power of ten up to 1e22
        // are both exact Doubles, and one IEEE multiply or divide rounds correctly.
        let scale = exponent - fractionDigits
        if digits <= maxMantissaDigits && mantissa <= 1 << 53 && scale >= -22 && scale <= 22 {
            let magnitude = Double(mantissa)
            let value = scale < 0 ? magnitude / powersOfTen[-scale] : magnitude * powersOfTen[scale]
            return negative ? -value : value
        }

        // The standard library's conversion is correctly rounded. Texts of up to 15
        // bytes fit in a small String, so most of these do not allocate either.
        let text = String(decoding: self.bytes[start..<self.index], as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw self.error(.numberTooLarge, at: start)
        }
        return value
    }

    /// Reads a run of digits, adding each to `mantissa` while it has room for it.
    private mutating func readDigits(into mantissa: inout UInt64, counting digits: inout Int) {
        while let byte = self.peek(), isDigit(byte) {
            if digits < maxMantissaDigits {
                // Cannot overflow: fewer than 19 digits so far are below 10^18.
                mantissa = mantissa &* 10 &+ UInt64(byte &- UInt8(ascii: "0"))
            }
            digits += 1
            self.index += 1
        }
    }
}

/// 19 decimal digits always fit in a UInt64 (10^19 - 1 < 2^64).
private let maxMantissaDigits = 19

/// 1e0 through 1e22: every power of ten that a Double holds exactly.
private let powersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

private func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
}

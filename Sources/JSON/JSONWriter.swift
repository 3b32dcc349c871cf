extension JSON {
    /// Returns this value as compact JSON text: no whitespace, object members in
    /// their stored order (duplicates included).
    ///
    /// Strings escape `"`, `\` and U+0000–U+001F (as `\n`, `\t`, … or `\u00XX`) and
    /// keep everything else as UTF-8. An integral number within ±2^53 is written
    /// without a fraction (`3`, `-0`); any other number as Swift's shortest text
    /// that reads back to the same `Double` (`0.1`, `1e-07`, `1e+300`).
    ///
    /// NaN and ±infinity have no JSON form. They are written as `null`, as
    /// JavaScript's `JSON.stringify` does, rather than trapping: a computed ratio
    /// such as 0/0 should not stop the program. `parse` never produces them.
    public func serialized() -> String {
        String(decoding: self.serializedBytes(), as: UTF8.self)
    }

    /// Returns the UTF-8 bytes of `serialized()`, ready to send as a request body.
    public func serializedBytes() -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(64)
        JSONWriter.write(self, into: &output)
        return output
    }
}

extension JSON: CustomStringConvertible {
    /// The compact JSON text of this value, as `serialized()` returns it.
    public var description: String { self.serialized() }
}

/// Writes JSON values as compact UTF-8 text.
///
/// Nested values are written recursively. Values read by `parse` nest at most
/// `maxDepth` deep; a value built in code is as deep as its author made it.
enum JSONWriter {
    static func write(_ value: JSON, into output: inout [UInt8]) {
        switch value {
        case .null:
            output.append(contentsOf: "null".utf8)
        case .bool(true):
            output.append(contentsOf: "true".utf8)
        case .bool(false):
            output.append(contentsOf: "false".utf8)
        case .number(let number):
            self.write(number, into: &output)
        case .string(let text):
            self.write(text, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 {
                    output.append(UInt8(ascii: ","))
                }
                self.write(element, into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (position, member) in members.pairs.enumerated() {
                if position > 0 {
                    output.append(UInt8(ascii: ","))
                }
                self.write(member.key, into: &output)
                output.append(UInt8(ascii: ":"))
                self.write(member.value, into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    static func write(_ number: Double, into output: inout [UInt8]) {
        guard number.isFinite else {
            output.append(contentsOf: "null".utf8)
            return
        }
        // Within ±2^53 every integer is exact, so Int64 prints it exactly and
        // without Double.description's ".0".
        if number.rounded(.towardZero) == number && number.magnitude <= 9_007_199_254_740_992 {
            if number == 0 && number.sign == .minus {
                // Int64 has no negative zero; "-0" is valid JSON and reads back as -0.0.
                output.append(contentsOf: "-0".utf8)
            } else {
                output.append(contentsOf: String(Int64(number)).utf8)
            }
            return
        }
        // Swift prints the shortest digits that read back to the same Double, in a
        // form RFC 8259 §6 accepts ("1e-07", "1e+300", "0.1", "1.5e+20").
        output.append(contentsOf: number.description.utf8)
    }

    static func write(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                output.append(UInt8(ascii: "\\"))
                output.append(byte)
            case 0x0A:
                output.append(contentsOf: "\\n".utf8)
            case 0x0D:
                output.append(contentsOf: "\\r".utf8)
            case 0x09:
                output.append(contentsOf: "\\t".utf8)
            case 0x08:
                output.append(contentsOf: "\\b".utf8)
            case 0x0C:
                output.append(contentsOf: "\\f".utf8)
            case 0x00..<0x20:
                // RFC 8259 §7: the other control characters have only the \u form.
                output.append(contentsOf: "\\u00".utf8)
                output.append(contentsOf: hex(byte).utf8)
            default:
                output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}

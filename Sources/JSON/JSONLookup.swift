// Finding one value by a path of member names, checking the whole document as
// `JSON.parse` does but building no tree: with the same pieces of JSONReader.

/// A path of member names into nested objects, such as `["memory", "percent"]`.
///
/// Make one once and look it up many times: it holds the names' UTF-8, so a
/// lookup compares bytes and allocates nothing.
public struct JSONPath: Sendable, ExpressibleByArrayLiteral {
    /// Each name's UTF-8, outermost first.
    let names: [[UInt8]]

    /// Creates the path through `names`, outermost first; `[]` is the whole document.
    public init(_ names: [String]) {
        self.names = names.map { Array($0.utf8) }
    }

    /// Creates the path through `["name", ...]`, outermost first.
    public init(arrayLiteral names: String...) {
        self.init(names)
    }
}

/// What `JSON.lookup(_:in:maxDepth:)` found at a path.
public enum JSONLookup: Equatable, Sendable {
    /// No value there: a name is missing, or a value on the way is not an object.
    case missing
    /// A number: the same `Double` that `parse` reads.
    case number(Double)
    /// A string, `true`, `false`, `null`, an array or an object: its text as
    /// written, whitespace inside included, cut after `maxTextBytes` bytes with "…".
    case other(String)

    /// How many bytes of a value `.other` keeps.
    public static let maxTextBytes = 128
}

extension JSON {
    /// Returns what `try JSON.parse(bytes, maxDepth: maxDepth)` holds at `path`
    /// (`["a", "b"]` as `parsed["a"]?["b"]`: the last member of a repeated name),
    /// without building it.
    ///
    /// The whole input is checked as `parse` checks it, after the value too.
    /// - Throws: `JSONError` exactly when `parse` throws, the same one.
    public static func lookup(_ path: JSONPath, in bytes: ArraySlice<UInt8>, maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSONLookup {
        var reader = JSONReader(bytes, maxDepth: maxDepth)
        return try reader.find(path)
    }

    /// Returns what `parse(bytes)` holds at `path`; see `lookup(_:in:maxDepth:)` for slices.
    /// - Throws: `JSONError` exactly when `parse` throws, the same one.
    public static func lookup(_ path: JSONPath, in bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSONLookup {
        try lookup(path, in: bytes[...], maxDepth: maxDepth)
    }
}

extension JSONReader {
    /// What was found so far; text is cut out only at the end.
    private enum Found {
        case missing
        case number(Double)
        case other(Range<Int>)
    }

    /// Reads the whole input as `readDocument` does, keeping only the value at `path`.
    ///
    /// A value lies on the path when every container around it is an object
    /// reached through the path's names. The containers open on the path are the
    /// outermost `onPath` ones; the path's last name picks the value found. A
    /// later member with a name on the path replaces what an earlier one gave.
    mutating func find(_ path: JSONPath) throws(JSONError) -> JSONLookup {
        try self.refuseByteOrderMark()
        var open = ContainerStack()
        var onPath = 0
        var found = Found.missing
        // When the value found is an array or object still open: where it starts and its depth.
        var foundStart = 0
        var foundDepth = 0
        // Whether the value about to be read lies on the path; the document does.
        var valueOnPath = true

        while true {
            // Going down, as readValue does.
            let byte = try self.startValue()
            let start = self.index
            let wanted = valueOnPath && open.count == path.names.count
            let container: Container?
            switch byte {
            case UInt8(ascii: "["): container = .array
            case UInt8(ascii: "{"): container = .object
            default: container = nil
            }
            if let container {
                if try self.open(container, depth: open.count + 1) {
                    if wanted { found = .other(start..<self.index) }
                } else {
                    open.push(container)
                    if wanted {
                        foundStart = start
                        foundDepth = open.count
                    } else if valueOnPath && container == .object {
                        onPath = open.count
                    }
                    valueOnPath = try self.memberOnPath(container, path, depth: open.count, onPath: onPath, found: &found)
                    continue
                }
            } else {
                let scalar = try self.scanScalar(byte, decoding: false)
                if wanted {
                    if case .number(let number) = scalar {
                        found = .number(number)
                    } else {
                        found = .other(start..<self.index)
                    }
                }
            }

            // Going up: a comma sends us down for the next value.
            while true {
                guard let container = open.top else {
                    try self.finishDocument()
                    return self.lookup(found)
                }
                if try self.continues(container) {
                    valueOnPath = try self.memberOnPath(container, path, depth: open.count, onPath: onPath, found: &found)
                    break
                }
                if open.count == foundDepth {
                    found = .other(foundStart..<self.index)
                    foundDepth = 0
                }
                if open.count == onPath {
                    onPath -= 1
                }
                open.pop()
            }
        }
    }

    /// Reads what comes before the next value in `container`, the innermost of
    /// `depth` open ones: in an object, the member's name. Returns whether that
    /// value lies on `path`; when it does, it replaces what was `found` before.
    private mutating func memberOnPath(_ container: Container, _ path: JSONPath, depth: Int, onPath: Int,
                                       found: inout Found) throws(JSONError) -> Bool {
        guard container == .object else { return false }
        let inPath = onPath == depth
        let key = try self.scanKey(decoding: inPath)
        guard inPath && self.string(key, equals: path.names[depth - 1]) else { return false }
        found = .missing
        return true
    }

    /// Returns `found` as the caller sees it, with text cut to `JSONLookup.maxTextBytes`.
    private func lookup(_ found: Found) -> JSONLookup {
        switch found {
        case .missing:
            return .missing
        case .number(let number):
            return .number(number)
        case .other(let range):
            guard range.count > JSONLookup.maxTextBytes else {
                return .other(String(decoding: self.bytes[range], as: UTF8.self))
            }
            // Cut before a character's first byte, never inside it.
            var end = range.lowerBound + JSONLookup.maxTextBytes
            while self.bytes[end] & 0xC0 == 0x80 {
                end -= 1
            }
            return .other(String(decoding: self.bytes[range.lowerBound..<end], as: UTF8.self) + "…")
        }
    }
}

/// Which containers are open, innermost last: bits for the first 64, an array
/// only beyond, so that a usual document allocates nothing.
private struct ContainerStack {
    private var bits: UInt64 = 0
    private var deeper: [JSONReader.Container] = []
    private(set) var count = 0

    /// The innermost open container, or nil when none is.
    var top: JSONReader.Container? {
        guard self.count > 0 else { return nil }
        if self.count > 64 { return self.deeper[self.deeper.count - 1] }
        return self.bits >> UInt64(self.count - 1) & 1 == 1 ? .object : .array
    }

    mutating func push(_ container: JSONReader.Container) {
        if self.count >= 64 {
            self.deeper.append(container)
        } else if container == .object {
            self.bits |= 1 << UInt64(self.count)
        } else {
            self.bits &= ~(1 << UInt64(self.count))
        }
        self.count += 1
    }

    mutating func pop() {
        if self.count > 64 { self.deeper.removeLast() }
        self.count -= 1
    }
}

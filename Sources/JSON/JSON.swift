/// A JSON value as RFC 8259 defines it.
///
/// Read one with `JSON.parse(_:)` (JSONReader.swift), write one with `serialized()`
/// (JSONWriter.swift). Values can be written as literals:
///
///     let patch: JSON = ["metadata": ["labels": ["ready": "yes"]]]
public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    /// A number, held as the `Double` nearest to its decimal text (correctly rounded).
    /// Values read by `parse` are always finite; see `serialized()` for non-finite ones.
    case number(Double)
    case string(String)
    case array([JSON])
    /// An object, with its members in the order they were read or added.
    case object(JSONObject)
}

/// The members of a JSON object: name/value pairs in order, duplicates kept.
///
/// RFC 8259 §4 says names SHOULD be unique but does not forbid repeats, so the
/// reader keeps every pair as written and lookups take the last one, as
/// JavaScript's `JSON.parse` does.
public struct JSONObject: Sendable, RandomAccessCollection {
    /// One member: its name and its value.
    public typealias Element = (key: String, value: JSON)

    /// Every member, in order, duplicates included.
    public private(set) var pairs: [Element]

    /// Creates an empty object.
    public init() {
        self.pairs = []
    }

    /// Creates an object with `pairs`, in that order; duplicate names are kept.
    public init(_ pairs: [Element]) {
        self.pairs = pairs
    }

    /// Returns the value of the last member named `key`, or nil when there is none.
    public subscript(key: String) -> JSON? {
        // Searching backwards makes the last duplicate win.
        for pair in self.pairs.reversed() where pair.key == key {
            return pair.value
        }
        return nil
    }

    /// Adds a member after the existing ones, even if one already has this name.
    public mutating func append(key: String, value: JSON) {
        self.pairs.append((key: key, value: value))
    }

    /// The position of the first member.
    public var startIndex: Int { self.pairs.startIndex }
    /// The position one past the last member.
    public var endIndex: Int { self.pairs.endIndex }
    /// Returns the member at `position`, which must be a valid index.
    public subscript(position: Int) -> Element { self.pairs[position] }
}

extension JSONObject: Equatable {
    /// Returns whether both objects hold the same members in the same order.
    ///
    /// Order counts so that a round trip through text is checked exactly; two
    /// objects that differ only in member order are not equal.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.pairs.count == rhs.pairs.count else { return false }
        for (left, right) in zip(lhs.pairs, rhs.pairs) where left.key != right.key || left.value != right.value {
            return false
        }
        return true
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral {
    /// Creates an object from `["name": value, ...]`, keeping the written order.
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self.pairs = elements.map { (key: $0.0, value: $0.1) }
    }

    /// Creates an object from `[("name", value), ...]`, keeping the written order.
    public init(arrayLiteral elements: (String, JSON)...) {
        self.pairs = elements.map { (key: $0.0, value: $0.1) }
    }
}

// MARK: - Reading values

extension JSON {
    /// Returns the value of member `key` when this is an object that has one (the
    /// last one if the name repeats), otherwise nil.
    public subscript(key: String) -> JSON? {
        self.objectValue?[key]
    }

    /// Returns the number when this is `.number`, otherwise nil.
    public var doubleValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// Returns the text when this is `.string`, otherwise nil.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// Returns the truth value when this is `.bool`, otherwise nil.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// Returns the elements when this is `.array`, otherwise nil.
    public var arrayValue: [JSON]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// Returns the members when this is `.object`, otherwise nil.
    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Returns whether this is `.null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

// MARK: - Literals

// There is deliberately no ExpressibleByNilLiteral: `json["a"] == nil` must keep
// meaning "no such member", not "a member whose value is null".

extension JSON: ExpressibleByBooleanLiteral {
    /// Creates `.bool` from `true` or `false`.
    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}

extension JSON: ExpressibleByIntegerLiteral {
    /// Creates `.number` from an integer literal such as `42`.
    public init(integerLiteral value: Int) {
        self = .number(Double(value))
    }
}

extension JSON: ExpressibleByFloatLiteral {
    /// Creates `.number` from a literal such as `0.5`.
    public init(floatLiteral value: Double) {
        self = .number(value)
    }
}

extension JSON: ExpressibleByStringLiteral {
    /// Creates `.string` from a string literal.
    public init(stringLiteral value: String) {
        self = .string(value)
    }
}

extension JSON: ExpressibleByArrayLiteral {
    /// Creates `.array` from `[value, ...]`.
    public init(arrayLiteral elements: JSON...) {
        self = .array(elements)
    }
}

extension JSON: ExpressibleByDictionaryLiteral {
    /// Creates `.object` from `["name": value, ...]`, keeping the written order.
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(JSONObject(elements.map { (key: $0.0, value: $0.1) }))
    }
}

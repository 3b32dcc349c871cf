// libFuzzer target: the JSON reader, compiled into JSON (scripts/fuzz.sh).
// The properties: a value read from the input, written and read again, is equal;
// and the path lookup agrees with parse and subscripts, on every input.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // A slice that does not start at index 0 reads the same as its copy.
    if size > 0 {
        let slice = bytes[1...]
        let fromSlice = Result { () throws(JSONError) in try JSON.parse(slice) }
        let fromCopy = Result { () throws(JSONError) in try JSON.parse(Array(slice)) }
        switch (fromSlice, fromCopy) {
        case (.success(let a), .success(let b)) where a == b: break
        case (.failure(let a), .failure(let b)) where a.description == b.description: break
        default: fatalError("a slice and its copy read differently: \(fromSlice) against \(fromCopy)")
        }
    }
    let parsed = Result { () throws(JSONError) in try JSON.parse(bytes) }
    checkLookups(bytes, parsed)
    guard case .success(let value) = parsed else { return 0 }
    let written = value.serializedBytes()
    guard let again = try? JSON.parse(written) else {
        fatalError("the writer's text does not read back: \(String(decoding: written, as: UTF8.self))")
    }
    guard again == value else {
        fatalError("the value changed in a round trip: \(String(decoding: written, as: UTF8.self))")
    }
    return 0
}

/// Traps unless `JSON.lookup` agrees with `parsed` (what `parse` gave) at a few
/// fixed paths and along the first member names of the value itself.
private func checkLookups(_ bytes: [UInt8], _ parsed: Result<JSON, JSONError>) {
    var paths: [[String]] = [[], ["memory", "percent"], ["a"], ["a", "a"], [""]]
    if case .success(let value) = parsed {
        var names: [String] = []
        var next = value
        while names.count < 4, let first = next.objectValue?.first {
            names.append(first.key)
            paths.append(names)
            next = first.value
        }
    }
    for names in paths {
        let found = Result { () throws(JSONError) in try JSON.lookup(JSONPath(names), in: bytes) }
        switch (parsed, found) {
        case (.failure(let a), .failure(let b)) where a.description == b.description:
            continue
        case (.success(let value), .success(let lookup)):
            var tree: JSON? = value
            for name in names { tree = tree?[name] }
            switch (tree, lookup) {
            case (nil, .missing):
                continue
            case (.number(let a)?, .number(let b)) where a.bitPattern == b.bitPattern:
                continue
            case (let tree?, .other(let text)) where tree.doubleValue == nil:
                // The text as written reads back as the same value, unless it was cut.
                if text.hasSuffix("…") || (try? JSON.parse(text)) == tree { continue }
            default:
                break
            }
            fatalError("lookup \(names) found \(lookup), parse and subscripts \(String(describing: tree))")
        default:
            fatalError("lookup \(names) gave \(found), parse \(parsed)")
        }
    }
}

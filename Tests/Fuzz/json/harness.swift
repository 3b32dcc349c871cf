// libFuzzer target: the JSON reader, compiled into JSON (scripts/fuzz.sh).
// The property: a value read from the input, written and read again, is equal.

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
    guard let value = try? JSON.parse(bytes) else { return 0 }
    let written = value.serializedBytes()
    guard let again = try? JSON.parse(written) else {
        fatalError("the writer's text does not read back: \(String(decoding: written, as: UTF8.self))")
    }
    guard again == value else {
        fatalError("the value changed in a round trip: \(String(decoding: written, as: UTF8.self))")
    }
    return 0
}

// libFuzzer target: the JSON reader, compiled into HTTPLite (scripts/fuzz.sh).
// The property: a value read from the input, written and read again, is equal.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
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

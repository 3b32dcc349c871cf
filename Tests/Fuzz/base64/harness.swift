// libFuzzer target: Base64, compiled into Watcher (scripts/fuzz.sh).
// Properties: any bytes encoded decode back to themselves, and decoded text
// re-encodes to text that decodes to the same bytes.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBase64(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard Base64.decode(Base64.encode(bytes)) == bytes else {
        fatalError("encode then decode changed \(bytes)")
    }
    let text = String(decoding: bytes, as: UTF8.self)
    if let decoded = Base64.decode(text) {
        guard Base64.decode(Base64.encode(decoded)) == decoded else {
            fatalError("\(text.debugDescription) decodes to bytes that do not survive a round trip")
        }
    }
    return 0
}

// libFuzzer target: HTTPURL, compiled into HTTPLite (scripts/fuzz.sh).
// Properties: a URL read from the input reads back equal from its description,
// and its parts never hold a byte that would break the request line or Host header.

private func isSafeInRequestHead(_ text: String) -> Bool {
    text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPURL(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let url = try? HTTPURL(text) else { return 0 }
    guard isSafeInRequestHead(url.hostHeader), isSafeInRequestHead(url.host) else {
        fatalError("the host of \(text.debugDescription) holds a byte a Host header cannot: \(url.hostHeader.debugDescription)")
    }
    guard isSafeInRequestHead(url.target) else {
        fatalError("the target of \(text.debugDescription) holds a byte a request line cannot")
    }
    guard (1...65535).contains(url.port), url.target.hasPrefix("/") else {
        fatalError("\(text.debugDescription) gave port \(url.port), target \(url.target.debugDescription)")
    }
    guard let again = try? HTTPURL(url.description), again == url else {
        fatalError("\(text.debugDescription) does not read back from \(url.description.debugDescription)")
    }
    return 0
}

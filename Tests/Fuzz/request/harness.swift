// libFuzzer target: RequestParser, compiled into HTTPLite (scripts/fuzz.sh).
// Input: one byte of options, two bytes that choose split points, then the
// request bytes. Properties: the whole input, the same bytes at index 0, fed
// one byte at a time, and fed in the two chosen pieces give the same answer;
// a complete head keeps to the limits, consumes only what it was given, and
// its status for a refusal is one the server sends.

private let limitChoices = [
    RequestLimits(),
    RequestLimits(maxHeadBytes: 100, maxRequestLineBytes: 40),
    RequestLimits(maxHeadBytes: 40, maxRequestLineBytes: 100),
    // The public API allows any limit; none may make parsing trap.
    RequestLimits(maxHeadBytes: .max, maxRequestLineBytes: .max),
]

/// Feeds `bytes` in growing prefixes ending at `ends` (then the whole), as a
/// socket would deliver them; stops at the first answer that is not needMoreBytes.
private func feed(_ bytes: ArraySlice<UInt8>, ends: [Int], limits: RequestLimits) -> RequestParse {
    var parser = RequestParser(limits: limits)
    for end in ends where end < bytes.count {
        let outcome = parser.parse(bytes.prefix(end))
        if outcome != .needMoreBytes { return outcome }
    }
    return parser.parse(bytes)
}

private func check(_ whole: RequestParse, _ split: RequestParse, _ how: String) {
    guard whole == split else {
        fatalError("whole input gives \(whole), \(how) gives \(split)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 3 else { return 0 }
    let limits = limitChoices[Int(data[0]) & 3]
    // The request starts at index 3 of the slice, as it can in a reused read buffer.
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))[3...]
    let whole = feed(bytes, ends: [], limits: limits)
    switch whole {
    case .done(let request, let consumed):
        guard consumed <= bytes.count, consumed <= limits.maxHeadBytes,
              request.minorVersion == 0 || request.minorVersion == 1,
              request.target.utf8.first == UInt8(ascii: "/") else {
            fatalError("\(request) consumed \(consumed) of \(bytes.count) bytes")
        }
    case .malformed(let error):
        guard [400, 413, 414, 431, 505].contains(error.status) else { fatalError("status \(error.status) for \(error)") }
    case .needMoreBytes:
        break
    }
    check(whole, feed(Array(bytes)[...], ends: [], limits: limits), "the same bytes at index 0")
    check(whole, feed(bytes, ends: Array(0..<bytes.count), limits: limits), "byte by byte")
    let first = Int(data[1]) * bytes.count / 256
    let second = first + Int(data[2]) * (bytes.count - first) / 256
    check(whole, feed(bytes, ends: [first, second], limits: limits), "split at \(first) and \(second)")
    return 0
}

// libFuzzer target: ResponseParser, compiled into HTTPLite (scripts/fuzz.sh).
// Input: one byte of options, two bytes that choose split points, then the
// response bytes. Properties: the whole input, the input fed one byte at a
// time, and the input fed in the two chosen pieces give the same answer; a
// complete response keeps to the body limit and consumes only what it was given.

private let limitChoices = [
    ResponseLimits(),
    ResponseLimits(maxHeaderBytes: 100, maxBodyBytes: 10),
    ResponseLimits(maxHeaderBytes: 40, maxBodyBytes: 1000),
    // The public API allows any limit; none may make parsing trap.
    ResponseLimits(maxHeaderBytes: .max, maxBodyBytes: .max),
]

/// A comparable summary of a parse result.
private enum Outcome: Equatable {
    case done(status: Int, fields: [String], body: [UInt8], keepAlive: Bool, consumed: Int)
    case needMoreBytes
    case malformed(String)

    init(_ parse: Parse<ParsedResponse>) {
        switch parse {
        case .done(let parsed, let consumed):
            let response = parsed.response
            self = .done(status: response.status, fields: response.headers.fields.map { "\($0.name): \($0.value)" },
                         body: response.body, keepAlive: parsed.keepAlive, consumed: consumed)
        case .needMoreBytes:
            self = .needMoreBytes
        case .malformed(let error):
            self = .malformed(error.code.name)
        }
    }
}

/// Feeds `bytes` in growing prefixes ending at `ends` (then the whole), as a
/// socket would deliver them; stops at the first answer that is not needMoreBytes.
private func feed(_ bytes: ArraySlice<UInt8>, ends: [Int], options: UInt8) -> Outcome {
    var parser = ResponseParser(limits: limitChoices[Int(options >> 2) & 3], isHeadRequest: options & 1 != 0)
    for end in ends where end < bytes.count {
        let outcome = Outcome(parser.parse(bytes.prefix(end), atEndOfStream: false))
        if outcome != .needMoreBytes { return outcome }
    }
    return Outcome(parser.parse(bytes, atEndOfStream: options & 2 != 0))
}

private func check(_ whole: Outcome, _ split: Outcome, _ how: String) {
    guard whole == split else {
        fatalError("whole input gives \(whole), \(how) gives \(split)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResponseParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size >= 3 else { return 0 }
    let options = data[0]
    // The response starts at index 3 of the slice, as it can in a reused read buffer.
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))[3...]
    let whole = feed(bytes, ends: [], options: options)
    if case .done(_, _, let body, _, let consumed) = whole {
        let limit = limitChoices[Int(options >> 2) & 3].maxBodyBytes
        guard body.count <= limit, consumed <= bytes.count else {
            fatalError("a \(body.count)-byte body over the \(limit)-byte limit, or \(consumed) of \(bytes.count) bytes consumed")
        }
    }
    check(whole, feed(Array(bytes)[...], ends: [], options: options), "the same bytes at index 0")
    check(whole, feed(bytes, ends: Array(0..<bytes.count), options: options), "byte by byte")
    let first = Int(data[1]) * bytes.count / 256
    let second = first + Int(data[2]) * (bytes.count - first) / 256
    check(whole, feed(bytes, ends: [first, second], options: options), "split at \(first) and \(second)")
    return 0
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOSSL

// `ahc-bench MODE N URL [CA-FILE]`: AsyncHTTPClient (SwiftNIO, BoringSSL), one
// HTTPClient on the shared event loop group reused for every request, awaited
// one at a time.

let start = DispatchTime.now().uptimeNanoseconds

struct Usage: Decodable {
    struct Memory: Decodable { let percent: Double }
    let memory: Memory
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("ahc-bench: \(message)\n".utf8))
    exit(1)
}

let arguments = CommandLine.arguments
guard arguments.count >= 4, let count = Int(arguments[2]) else {
    fail("usage: ahc-bench plain|tls|tlsnew N URL [CA-FILE]")
}
let mode = arguments[1]
let url = arguments[3]

var configuration = HTTPClient.Configuration()
if arguments.count > 4 {
    var tls = TLSConfiguration.makeClientConfiguration()
    tls.trustRoots = .file(arguments[4])
    tls.minimumTLSVersion = .tlsv12
    configuration.tlsConfiguration = tls
}
configuration.connectionPool = .init(idleTimeout: .seconds(600), concurrentHTTP1ConnectionsPerHostSoftLimit: 1)
configuration.httpVersion = .http1Only
let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)

var request = HTTPClientRequest(url: url)
if mode == "tlsnew" { request.headers.add(name: "Connection", value: "close") }

let decoder = JSONDecoder()
var firstResponse = 0.0
var checksum = 0.0
do {
    for index in 0..<count {
        let response = try await client.execute(request, timeout: .seconds(30))
        guard response.status == .ok else { fail("status \(response.status)") }
        let body = try await response.body.collect(upTo: 1 << 20)
        checksum += try decoder.decode(Usage.self, from: body).memory.percent
        if index == 0 { firstResponse = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 }
    }
    try await client.shutdown().get()
} catch {
    fail("\(error)")
}

var usage = rusage()
getrusage(RUSAGE_SELF.rawValue, &usage)
let cpu = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1_000_000 + Int(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
print("client=asynchttpclient mode=\(mode) n=\(count) cpu_us=\(cpu) maxrss_kb=\(usage.ru_maxrss) "
    + "first_response_ms=\(String(format: "%.3f", firstResponse)) checksum=\(String(format: "%.1f", checksum))")

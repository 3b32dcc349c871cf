import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

// `urlsession-bench MODE N URL [CA-FILE]`: Swift's URLSession (FoundationNetworking,
// over libcurl on Linux), one session reused for every request.
//
// FoundationNetworking on Linux has no setting for a CA file: it always hands
// curl the system bundle. scripts/bench.sh therefore runs this client in a
// private mount namespace with the test CA mounted over that bundle; the
// CA-FILE argument is accepted for the common command line and not used.

let start = DispatchTime.now().uptimeNanoseconds

struct Usage: Decodable {
    struct Memory: Decodable { let percent: Double }
    let memory: Memory
}

/// The outcome of one task, handed from URLSession's delegate queue to the main thread.
final class Outcome: @unchecked Sendable {
    var data: Data?
    var status = 0
    var error: Error?
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("urlsession-bench: \(message)\n".utf8))
    exit(1)
}

let arguments = CommandLine.arguments
guard arguments.count >= 4, let count = Int(arguments[2]), let url = URL(string: arguments[3]) else {
    fail("usage: urlsession-bench plain|tls|tlsnew N URL [CA-FILE]")
}
let mode = arguments[1]

let configuration = URLSessionConfiguration.ephemeral
configuration.urlCache = nil
configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
configuration.httpMaximumConnectionsPerHost = 1
let session = URLSession(configuration: configuration)
var request = URLRequest(url: url)
if mode == "tlsnew" { request.setValue("close", forHTTPHeaderField: "Connection") }

let decoder = JSONDecoder()
let finished = DispatchSemaphore(value: 0)
var firstResponse = 0.0
var checksum = 0.0
for index in 0..<count {
    let outcome = Outcome()
    let task = session.dataTask(with: request) { data, response, error in
        outcome.data = data
        outcome.status = (response as? HTTPURLResponse)?.statusCode ?? 0
        outcome.error = error
        finished.signal()
    }
    task.resume()
    finished.wait()
    guard outcome.error == nil, outcome.status == 200, let data = outcome.data else {
        fail("status \(outcome.status): \(String(describing: outcome.error))")
    }
    do {
        checksum += try decoder.decode(Usage.self, from: data).memory.percent
    } catch {
        fail("\(error)")
    }
    if index == 0 { firstResponse = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 }
}

var usage = rusage()
getrusage(RUSAGE_SELF.rawValue, &usage)
let cpu = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1_000_000 + Int(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
print("client=urlsession mode=\(mode) n=\(count) cpu_us=\(cpu) maxrss_kb=\(usage.ru_maxrss) "
    + "first_response_ms=\(String(format: "%.3f", firstResponse)) checksum=\(String(format: "%.1f", checksum))")

import HTTPLite
import JSON

/// `httplite bench MODE N URL [CA-FILE]`: N GETs parsing `memory.percent`, then one
/// result line with CPU time and peak RSS, for scripts/bench.sh.
///
/// plain and tls reuse one keep-alive connection; tlsnew opens a new TLS connection each time.
func runBench(_ arguments: [String]) {
    guard arguments.count >= 3, ["plain", "tls", "tlsnew"].contains(arguments[0]),
          let count = Int(arguments[1]), count >= 0
    else { fail("bench takes MODE N URL [CA-FILE]") }
    let mode = arguments[0]
    var configuration = HTTPClient.Configuration()
    if arguments.count > 3 { configuration.tls.trustRoots = .file(arguments[3]) }
    let url: HTTPURL
    do { url = try HTTPURL(arguments[2]) } catch { fail("\(error)") }
    var request = HTTPRequest(url: url)
    if mode == "tlsnew" { request.headers.add("Connection", "close") }

    let start = monotonicSeconds()
    var firstResponse = 0.0
    // One client for every mode, as the C peers keep one SSL_CTX: with
    // `Connection: close` tlsnew still opens a new TLS connection per request.
    let client = HTTPClient(configuration: configuration)
    var sum = 0.0
    let percentPath: JSONPath = ["memory", "percent"]
    for index in 0..<count {
        // One do per error type: a catch of both would need `any Error`, which Embedded Swift lacks.
        let response: HTTPResponse
        do { response = try client.execute(request) } catch { fail("\(error)", status: 1) }
        guard response.status == 200 else { fail("unexpected response \(response.status)", status: 1) }
        let field: JSONLookup
        do { field = try JSON.lookup(percentPath, in: response.body) } catch { fail("\(error)", status: 1) }
        guard case .number(let percent) = field else { fail("unexpected response \(response.status)", status: 1) }
        sum += percent
        if index == 0 { firstResponse = monotonicSeconds() - start }
    }
    let usage = System.resourceUsage()
    print("client=httplite mode=\(mode) n=\(count) cpu_us=\(usage.cpuMicroseconds) maxrss_kb=\(usage.maxResidentKilobytes) first_response_ms=\(firstResponse * 1000) checksum=\(sum)")
}


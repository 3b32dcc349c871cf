import HTTPLite
import JSON

/// Why a sample of the Usage API gave no percent.
struct UsageFailure: Error, CustomStringConvertible {
    let description: String
    /// A signal ended the wait: not the Usage API's fault, and not to be counted.
    var interrupted = false
    /// The HTTP status when the Usage API answered with one other than 200.
    var status: Int? = nil

    /// What the user can do about it, when the failure tells.
    var hint: String? {
        // soketi answers 404 for /usage on its app port 6001; the Usage API is on the metrics port.
        guard status == 404 else { return nil }
        return "soketi serves /usage on its metrics port 9601: set SERVER_PORT=9601 or USAGE_URL=http://127.0.0.1:9601/usage"
    }
}

/// Reads `memory.percent` from the Echo Server's Usage API.
final class UsagePoller {
    private let client: HTTPClient
    private let request: HTTPRequest

    init(url: HTTPURL, timeout: Double, interrupt: Int32) {
        client = HTTPClient(configuration: HTTPClient.Configuration(
            connectTimeout: timeout, timeout: timeout,
            limits: ResponseLimits(maxHeaderBytes: 16 * 1024, maxBodyBytes: 64 * 1024),
            interruptDescriptor: interrupt))
        request = HTTPRequest(url: url, headers: ["Accept": "application/json"])
    }

    /// The percent, or why there is none. Never a made-up value: a failure is not 0%.
    func sample() -> Result<Double, UsageFailure> {
        let response: HTTPResponse
        do {
            response = try client.execute(request)
        } catch {
            return .failure(UsageFailure(description: error.description, interrupted: error.code == .interrupted))
        }
        guard response.status == 200 else {
            return .failure(UsageFailure(description: "the Usage API answered HTTP \(response.status)", status: response.status))
        }
        return Self.percent(in: response.body)
    }

    /// `memory.percent` of a Usage API body: a finite, non-negative JSON number.
    static func percent(in body: [UInt8]) -> Result<Double, UsageFailure> {
        guard let usage = try? JSON.parse(body) else {
            return .failure(UsageFailure(description: "the Usage API's answer is not JSON"))
        }
        guard let field = usage["memory"]?["percent"] else {
            return .failure(UsageFailure(description: "the Usage API's answer has no memory.percent"))
        }
        guard let percent = field.doubleValue, percent.isFinite, percent >= 0 else {
            return .failure(UsageFailure(description: "memory.percent is not a non-negative number: \(field.serialized())"))
        }
        return .success(percent)
    }
}

import HTTPLite
import JSON

/// Why a sample of the Usage API gave no percent.
struct UsageFailure: Error, CustomStringConvertible {
    /// How it failed, as `/metrics` counts it.
    enum Kind: String, CaseIterable {
        /// No answer in time.
        case timeout
        /// No connection (refused, reset, closed early).
        case connection
        /// An answer other than 200.
        case status
        /// A 200 whose body has no usable `memory.percent`.
        case body
    }

    let kind: Kind
    let description: String
    /// The HTTP status when the Usage API answered with one other than 200.
    var status: Int? = nil

    init(_ kind: Kind, _ description: String, status: Int? = nil) {
        self.kind = kind
        self.description = description
        self.status = status
    }

    init(_ error: HTTPError) {
        let timedOut = error.code == .connectTimeout || error.code == .readTimeout || error.code == .writeTimeout
        self.init(timedOut ? .timeout : .connection, error.description)
    }

    /// What the user can do about it, when the failure tells.
    var hint: String? {
        // soketi answers 404 for /usage on its app port 6001; the Usage API is on the metrics port.
        guard status == 404 else { return nil }
        return "soketi serves /usage on its metrics port 9601: set SERVER_PORT=9601 or USAGE_URL=http://127.0.0.1:9601/usage"
    }
}

/// Reads `memory.percent` from the Echo Server's Usage API, one sample at a time and never
/// blocking: `start`, wait for `exchange`'s interest (or its `wakeAt`), then `advance`.
final class UsagePoller {
    private let client: HTTPClient
    private let request: HTTPRequest
    /// The sample under way, to wait on; nil when none is.
    private(set) var exchange: HTTPExchange?

    init(url: HTTPURL, timeout: Double) {
        client = HTTPClient(configuration: HTTPClient.Configuration(
            connectTimeout: timeout, timeout: timeout,
            limits: ResponseLimits(maxHeaderBytes: 16 * 1024, maxBodyBytes: 64 * 1024)))
        request = HTTPRequest(url: url, headers: ["Accept": "application/json"])
    }

    /// Starts a sample: the failure when it failed at once, nil when it is under way.
    func start() -> UsageFailure? {
        precondition(exchange == nil, "one sample at a time")
        do {
            exchange = try client.start(request)
            return nil
        } catch {
            return UsageFailure(error)
        }
    }

    /// Goes on with the sample under way: the percent or why there is none (never a
    /// made-up value: a failure is not 0%), or nil while it is not done.
    func advance() -> Result<Double, UsageFailure>? {
        guard let exchange else { preconditionFailure("no sample under way") }
        let response: HTTPResponse
        do {
            guard let answered = try exchange.advance() else { return nil }
            response = answered
        } catch {
            self.exchange = nil
            return .failure(UsageFailure(error))
        }
        self.exchange = nil
        guard response.status == 200 else {
            return .failure(UsageFailure(.status, "the Usage API answered HTTP \(response.status)", status: response.status))
        }
        return Self.percent(in: response.body)
    }

    /// Abandons the sample under way and closes its connection.
    func cancel() {
        exchange?.cancel()
        exchange = nil
    }

    /// `memory.percent` of a Usage API body: a finite, non-negative JSON number.
    static func percent(in body: [UInt8]) -> Result<Double, UsageFailure> {
        // The whole body is checked, but no tree is built: this runs at every sample.
        guard let field = try? JSON.lookup(percentPath, in: body) else {
            return .failure(UsageFailure(.body, "the Usage API's answer is not JSON"))
        }
        switch field {
        case .missing:
            return .failure(UsageFailure(.body, "the Usage API's answer has no memory.percent"))
        case .number(let percent) where percent >= 0:
            // parse reads only finite numbers.
            return .success(percent)
        case .number(let percent):
            return .failure(UsageFailure(.body, "memory.percent is not a non-negative number: \(JSON.number(percent).serialized())"))
        case .other(let text):
            return .failure(UsageFailure(.body, "memory.percent is not a non-negative number: \(text)"))
        }
    }

    private static let percentPath: JSONPath = ["memory", "percent"]
}

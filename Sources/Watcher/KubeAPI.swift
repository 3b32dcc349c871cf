import HTTPLite
import JSON

/// What the watcher needs to know of its pod.
struct PodInfo: Equatable {
    let uid: String
    let resourceVersion: String
    /// The label's value, nil when the pod has no such label.
    let labelValue: String?
}

/// The three requests the watcher makes, with bearer-token handling.
final class KubeAPI {
    let endpoint: APIEndpoint
    private var client: HTTPClient
    private var tokenFile = TokenFile()
    /// The exec plugin's credential in use, when the endpoint has one.
    private var credential: ExecCredential?
    private let interrupt: Int32
    private let clock: () -> Double
    private let timeout: Double
    /// When set (monotonic seconds), no request waits much past it: used while stopping.
    var deadline: Double?
    /// A kept-alive connection that has not begun to answer within this many seconds is
    /// given up for a new one: a proxy may stop forwarding it without closing it.
    static let reusedConnectionTimeout = 1.0

    init(endpoint: APIEndpoint, timeout: Double, interrupt: Int32, clock: @escaping () -> Double) {
        self.endpoint = endpoint
        self.clock = clock
        self.timeout = timeout
        self.interrupt = interrupt
        client = HTTPClient(configuration: HTTPClient.Configuration(
            connectTimeout: timeout, timeout: timeout, tls: endpoint.tls, interruptDescriptor: interrupt,
            reusedConnectionTimeout: Self.reusedConnectionTimeout))
    }

    func getPod(namespace: String, name: String, label: String) throws(APIFailure) -> PodInfo {
        let response = try self.send("GET", podPath(namespace, name), body: nil, contentType: nil)
        return try podInfo(response, label: label)
    }

    /// Sets only the label, with a JSON merge patch: never a PUT of the whole pod.
    func patchLabel(namespace: String, name: String, label: String, value: String) throws(APIFailure) -> PodInfo {
        let patch: JSON = ["metadata": ["labels": .object([(label, .string(value))])]]
        let response = try self.send("PATCH", podPath(namespace, name), body: patch.serializedBytes(),
                                contentType: "application/merge-patch+json")
        return try podInfo(response, label: label)
    }

    func createEvent(namespace: String, event: JSON) throws(APIFailure) {
        _ = try self.send("POST", "/api/v1/namespaces/\(namespace)/events", body: event.serializedBytes(),
                     contentType: "application/json")
    }

    private func podPath(_ namespace: String, _ name: String) -> String {
        "/api/v1/namespaces/\(namespace)/pods/\(name)"
    }

    private func podInfo(_ response: HTTPResponse, label: String) throws(APIFailure) -> PodInfo {
        guard let pod = try? JSON.parse(response.body), let metadata = pod["metadata"] else {
            throw APIFailure(.transport(.malformed), reason: "BadResponse",
                             message: "the pod is not a JSON object with metadata")
        }
        return PodInfo(uid: metadata["uid"]?.stringValue ?? "",
                       resourceVersion: metadata["resourceVersion"]?.stringValue ?? "",
                       labelValue: metadata["labels"]?[label]?.stringValue)
    }

    /// Sends one request; after a 401 the token file is read again and the request retried once.
    private func send(_ method: String, _ path: String, body: [UInt8]?, contentType: String?) throws(APIFailure) -> HTTPResponse {
        var response = try attempt(method, path, body: body, contentType: contentType, freshToken: false)
        if response.status == 401, endpoint.token.refreshesAfter401 {
            response = try attempt(method, path, body: body, contentType: contentType, freshToken: true)
        }
        guard (200...299).contains(response.status) else { throw failure(response) }
        return response
    }

    private func attempt(_ method: String, _ path: String, body: [UInt8]?, contentType: String?,
                         freshToken: Bool) throws(APIFailure) -> HTTPResponse {
        var headers: HTTPHeaders = ["Accept": "application/json", "User-Agent": "network-watcher/\(watcherVersion)"]
        if let contentType { headers.add("Content-Type", contentType) }
        var wait = timeout
        if let deadline {
            wait = min(wait, deadline - clock())
            guard wait > 0.01 else {
                throw APIFailure(.outOfTime, reason: "timeout", message: "no time left to \(method) \(path)")
            }
        }
        let token = try currentToken(forceReload: freshToken)
        if let token { headers.add("Authorization", "Bearer \(token)") }
        do {
            let url = try HTTPURL("\(endpoint.baseURL.scheme.rawValue)://\(endpoint.baseURL.hostHeader)\(path)")
            // All three requests may be repeated: a read, a merge patch of a fixed value, and an
            // Event with a fixed name (a repeat is answered 409 AlreadyExists, counted as recorded).
            return try client.execute(HTTPRequest(method: method, url: url, headers: headers, body: body,
                                                  timeout: wait, connectTimeout: wait / 2, isIdempotent: true))
        } catch {
            throw APIFailure(.transport(error.code), reason: error.code.name, message: error.detail)
        }
    }

    /// The bearer token to send, if any; a token file or plugin that fails is a `.credentials` failure.
    private func currentToken(forceReload: Bool) throws(APIFailure) -> String? {
        switch endpoint.token {
        case .none:
            return nil
        case .fixed(let value):
            return value
        case .file(let path):
            do {
                return try tokenFile.token(at: path, now: clock(), forceReload: forceReload)
            } catch {
                throw APIFailure(.credentials, reason: "credentials", message: "\(error)")
            }
        case .exec(let plugin, let first):
            let current = credential ?? first
            // client-go runs the plugin again at the expiry and after a 401.
            guard forceReload || current.hasExpired(now: WallClock.now().seconds) else {
                credential = current
                return current.token
            }
            // While stopping, the plugin gets no more time than the request would.
            let limit = deadline.map { max(0.01, min(ExecPlugin.timeout, $0 - clock())) } ?? ExecPlugin.timeout
            let fresh: ExecCredential
            do {
                fresh = try plugin.run(interrupt: interrupt, timeout: limit)
            } catch {
                throw APIFailure(.credentials, reason: "ExecPluginFailed", message: error.message)
            }
            useClientCertificate(of: fresh, replacing: current)
            credential = fresh
            return fresh.token
        }
    }

    /// A plugin's new client certificate needs a new TLS context, so a new client.
    private func useClientCertificate(of fresh: ExecCredential, replacing old: ExecCredential) {
        guard let certificate = fresh.certificate, let key = fresh.key,
              certificate != old.certificate || key != old.key else { return }
        var configuration = client.configuration
        configuration.tls.certificate = .bytes(certificate)
        configuration.tls.privateKey = .bytes(key)
        client = HTTPClient(configuration: configuration)
    }

    private func failure(_ response: HTTPResponse) -> APIFailure {
        let status = try? JSON.parse(response.body)
        let retryAfter = response.headers["Retry-After"].flatMap { Double($0.trimmingWhitespace()) }
        return APIFailure(.status(response.status),
                          reason: status?["reason"]?.stringValue ?? "HTTP\(response.status)",
                          message: status?["message"]?.stringValue ?? String(decoding: response.body.prefix(200), as: UTF8.self),
                          retryAfter: retryAfter)
    }
}

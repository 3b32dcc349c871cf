import HTTPLite
import JSON

/// What the watcher needs to know of its pod.
struct PodInfo: Equatable {
    let uid: String
    let resourceVersion: String
    /// The label's value, nil when the pod has no such label.
    let labelValue: String?
}

/// The requests the watcher makes of the API server.
enum APIRequest: Equatable {
    case readPod
    /// Sets only the label, with a JSON merge patch: never a PUT of the whole pod.
    case patchLabel(String)
    case createEvent(Transition.Event.Reason, JSON)
    /// Counts one more occurrence on Event NAME with a JSON merge patch (its reason, name, patch).
    case updateEvent(Transition.Event.Reason, String, JSON)
}

/// What an API request came to.
enum APIOutcome {
    case podRead(PodInfo)
    case patched(PodInfo)
    case eventCreated(Transition.Event.Reason)
    case eventUpdated(Transition.Event.Reason)
    case failed(APIRequest, APIFailure)
}

/// The watcher's requests to its pod and its Events, one at a time and never blocking:
/// `start` one, wait for `exchange`'s interest (or its `wakeAt`), then `advance` until it
/// comes to an outcome. After a 401 the token is read again and the request sent once more.
final class KubeAPI {
    let endpoint: APIEndpoint
    private let namespace: String
    private let podName: String
    private let label: String
    private var client: HTTPClient
    private var tokenFile = TokenFile()
    /// The exec plugin's credential in use, when the endpoint has one.
    private var credential: ExecCredential?
    private let interrupt: Int32
    private let timeout: Double
    private var call: Call?
    /// The HTTP status of the last request that was answered; nil when the last one got no answer.
    private(set) var lastStatus: Int?

    /// The request under way.
    private struct Call {
        let request: APIRequest
        let exchange: HTTPExchange
        /// The stop's deadline (monotonic seconds), when stopping.
        let stopDeadline: Double?
        let freshToken: Bool
    }

    /// A kept-alive connection that has not begun to answer within this many seconds is
    /// given up for a new one: a proxy may stop forwarding it without closing it.
    static let reusedConnectionTimeout = 1.0

    init(endpoint: APIEndpoint, pod: PodReference, label: String, timeout: Double, interrupt: Int32) {
        self.endpoint = endpoint
        self.namespace = pod.namespace
        self.podName = pod.name
        self.label = label
        self.timeout = timeout
        self.interrupt = interrupt
        client = HTTPClient(configuration: HTTPClient.Configuration(
            connectTimeout: timeout, timeout: timeout, tls: endpoint.tls,
            reusedConnectionTimeout: Self.reusedConnectionTimeout))
    }

    /// The exchange under way, to wait on; nil when none is.
    var exchange: HTTPExchange? { call?.exchange }

    /// Starts `request`; an outcome when it failed at once, nil when it is under way.
    /// While stopping, `stopDeadline` bounds the request and a credential plugin it runs.
    func start(_ request: APIRequest, stopDeadline: Double?, now: Double) -> APIOutcome? {
        precondition(call == nil, "one API request at a time")
        do throws(APIFailure) {
            try begin(request, stopDeadline: stopDeadline, now: now, freshToken: false)
            return nil
        } catch {
            return .failed(request, error)
        }
    }

    /// Goes on with the request under way: its outcome, or nil while it is not done.
    func advance(now: Double) -> APIOutcome? {
        guard let call else { preconditionFailure("no API request under way") }
        let response: HTTPResponse
        do {
            guard let answered = try call.exchange.advance() else { return nil }
            response = answered
        } catch {
            self.call = nil
            lastStatus = nil
            return .failed(call.request, APIFailure(.transport(error.code), reason: error.code.name, message: error.detail))
        }
        self.call = nil
        lastStatus = response.status
        if response.status == 401, endpoint.token.refreshesAfter401, !call.freshToken {
            do throws(APIFailure) {
                try begin(call.request, stopDeadline: call.stopDeadline, now: now, freshToken: true)
                return nil
            } catch {
                return .failed(call.request, error)
            }
        }
        guard (200...299).contains(response.status) else { return .failed(call.request, failure(response)) }
        do throws(APIFailure) {
            switch call.request {
            case .readPod: return .podRead(try podInfo(response))
            case .patchLabel: return .patched(try podInfo(response))
            case .createEvent(let reason, _): return .eventCreated(reason)
            case .updateEvent(let reason, _, _): return .eventUpdated(reason)
            }
        } catch {
            return .failed(call.request, error)
        }
    }

    /// Abandons the request under way and closes its connection, so the next one starts afresh.
    func cancel() {
        call?.exchange.cancel()
        call = nil
    }

    private func begin(_ request: APIRequest, stopDeadline: Double?, now: Double, freshToken: Bool) throws(APIFailure) {
        let method: String
        var path = "/api/v1/namespaces/\(namespace)/pods/\(podName)"
        var body: [UInt8]?
        var headers: HTTPHeaders = ["Accept": "application/json", "User-Agent": "network-watcher/\(watcherVersion)"]
        switch request {
        case .readPod:
            method = "GET"
        case .patchLabel(let value):
            method = "PATCH"
            let patch: JSON = ["metadata": ["labels": .object([(label, .string(value))])]]
            body = patch.serializedBytes()
            headers.add("Content-Type", "application/merge-patch+json")
        case .createEvent(_, let event):
            method = "POST"
            path = "/api/v1/namespaces/\(namespace)/events"
            body = event.serializedBytes()
            headers.add("Content-Type", "application/json")
        case .updateEvent(_, let name, let patch):
            method = "PATCH"
            path = "/api/v1/namespaces/\(namespace)/events/\(name)"
            body = patch.serializedBytes()
            headers.add("Content-Type", "application/merge-patch+json")
        }
        var wait = timeout
        if let stopDeadline {
            wait = min(wait, stopDeadline - now)
            guard wait > 0.01 else {
                throw APIFailure(.outOfTime, reason: "timeout", message: "no time left to \(method) \(path)")
            }
        }
        if let token = try currentToken(forceReload: freshToken, stopDeadline: stopDeadline, now: now) {
            headers.add("Authorization", "Bearer \(token)")
        }
        do {
            let url = try HTTPURL("\(endpoint.baseURL.scheme.rawValue)://\(endpoint.baseURL.hostHeader)\(path)")
            // Every request may be repeated: a read, a merge patch of fixed values (the label, or
            // an Event's absolute count), and an Event with a fixed name (a repeat is answered
            // 409 AlreadyExists, counted as recorded).
            let exchange = try client.start(HTTPRequest(method: method, url: url, headers: headers, body: body,
                                                        timeout: wait, connectTimeout: wait / 2, isIdempotent: true))
            call = Call(request: request, exchange: exchange, stopDeadline: stopDeadline, freshToken: freshToken)
        } catch {
            throw APIFailure(.transport(error.code), reason: error.code.name, message: error.detail)
        }
    }

    private func podInfo(_ response: HTTPResponse) throws(APIFailure) -> PodInfo {
        guard let pod = try? JSON.parse(response.body), let metadata = pod["metadata"] else {
            throw APIFailure(.transport(.malformed), reason: "BadResponse",
                             message: "the pod is not a JSON object with metadata")
        }
        return PodInfo(uid: metadata["uid"]?.stringValue ?? "",
                       resourceVersion: metadata["resourceVersion"]?.stringValue ?? "",
                       labelValue: metadata["labels"]?[label]?.stringValue)
    }

    /// The bearer token to send, if any; a token file or plugin that fails is a `.credentials` failure.
    private func currentToken(forceReload: Bool, stopDeadline: Double?, now: Double) throws(APIFailure) -> String? {
        switch endpoint.token {
        case .none:
            return nil
        case .fixed(let value):
            return value
        case .file(let path):
            do {
                return try tokenFile.token(at: path, now: now, forceReload: forceReload)
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
            let limit = stopDeadline.map { max(0.01, min(ExecPlugin.timeout, $0 - now)) } ?? ExecPlugin.timeout
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

import HTTPLite

/// A failed API request, by kind: what the loop decides on is the kind, never the text.
struct APIFailure: Error, CustomStringConvertible {
    enum Kind: Equatable {
        /// The API server answered with a non-2xx status; `reason` is its Status reason.
        case status(Int)
        /// The request did not get an intact answer; HTTPLite's code says why.
        case transport(HTTPError.Code)
        /// No usable credential: the token file or the exec plugin failed.
        case credentials
        /// The stop's budget ran out before the request could be sent.
        case outOfTime
    }

    let kind: Kind
    let reason: String
    let message: String
    let retryAfter: Double?

    init(_ kind: Kind, reason: String, message: String, retryAfter: Double? = nil) {
        self.kind = kind
        self.reason = reason
        self.message = message
        self.retryAfter = retryAfter
    }

    /// The HTTP status, when the API server answered.
    var status: Int? {
        if case .status(let code) = kind { return code }
        return nil
    }

    /// 409, 429, 5xx and transport failures may succeed later; 401/403/404/422, a certificate
    /// that does not verify and unusable TLS settings will not by waiting.
    var isRetryable: Bool {
        switch kind {
        case .status(let code):
            return code == 409 || code == 429 || (500...599).contains(code)
        case .transport(let code):
            return code != .interrupted && code != .tlsConfiguration && code != .certificateRejected
        case .credentials:
            return true
        case .outOfTime:
            return false
        }
    }

    /// The API server's certificate did not verify.
    var rejectsCertificate: Bool { kind == .transport(.certificateRejected) }

    var description: String {
        if let status { return "HTTP \(status) \(reason): \(message)" }
        return "\(reason): \(message)"
    }
}

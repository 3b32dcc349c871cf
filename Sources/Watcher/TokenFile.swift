import HTTPLite

/// A service-account token file read again at least every minute, as client-go
/// does: the kubelet rewrites it before the token it holds expires.
struct TokenFile {
    static let reloadInterval = 60.0
    private var token: String?
    private var readAt = 0.0

    /// The token, from the file when never read, when `reloadInterval` has passed, or when forced.
    mutating func token(at path: String, now: Double, forceReload: Bool) throws(HTTPError) -> String {
        if let token, !forceReload, now - readAt < Self.reloadInterval { return token }
        let fresh = String(decoding: try readLocalFile(path, limit: 64 * 1024), as: UTF8.self).trimmingWhitespace()
        token = fresh
        readAt = now
        return fresh
    }
}

import Glibc

/// An `http://` or `https://` URL, split into what a client needs to connect and send.
public struct HTTPURL: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable { case http, https }

    public let scheme: Scheme
    /// The host without brackets: a lower-cased DNS name, an IPv4 or an IPv6 address.
    public let host: String
    public let port: Int
    /// The origin-form request target: path and query, never empty (`/` at least).
    public let target: String
    /// Whether `host` is a numeric address, so TLS checks an IP SAN and sends no SNI.
    public let hostIsIP: Bool
    /// The Host header's value: brackets around IPv6, the port only when not the scheme's default.
    public let hostHeader: String

    /// Parses `string`; throws `HTTPError` `.badURL` naming what is wrong.
    public init(_ string: String) throws {
        let bytes = Array(string.utf8)
        let rest: ArraySlice<UInt8>
        if let after = Self.dropPrefix("http://", from: bytes) {
            scheme = .http
            rest = after
        } else if let after = Self.dropPrefix("https://", from: bytes) {
            scheme = .https
            rest = after
        } else {
            throw HTTPError(.badURL, "\"\(string)\" is not an http:// or https:// URL")
        }

        let authorityEnd = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? rest.endIndex
        let authority = rest[rest.startIndex..<authorityEnd]
        guard !authority.contains(UInt8(ascii: "@")) else {
            throw HTTPError(.badURL, "\"\(string)\": user information in URLs is not supported")
        }

        var hostPart: ArraySlice<UInt8>
        var portPart: ArraySlice<UInt8>?
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else {
                throw HTTPError(.badURL, "\"\(string)\": unclosed [ in the host")
            }
            hostPart = authority[(authority.startIndex + 1)..<close]
            let after = authority[(close + 1)...]
            if let colon = after.first {
                guard colon == UInt8(ascii: ":") else {
                    throw HTTPError(.badURL, "\"\(string)\": unexpected text after the IPv6 address")
                }
                portPart = after.dropFirst()
            }
            guard SocketAddress.isIPv6(String(decoding: hostPart, as: UTF8.self)) else {
                throw HTTPError(.badURL, "\"\(string)\": [\(String(decoding: hostPart, as: UTF8.self))] is not an IPv6 address")
            }
            hostIsIP = true
        } else {
            if let colon = authority.firstIndex(of: UInt8(ascii: ":")) {
                hostPart = authority[authority.startIndex..<colon]
                portPart = authority[(colon + 1)...]
            } else {
                hostPart = authority
            }
            guard !hostPart.isEmpty, hostPart.allSatisfy(Self.isHostNameByte) else {
                throw HTTPError(.badURL, "\"\(string)\": the host is empty or has characters a host name cannot have")
            }
            hostIsIP = SocketAddress.isIPv4(String(decoding: hostPart, as: UTF8.self))
        }
        host = String(decoding: hostPart, as: UTF8.self).lowercased()

        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  let value = Int(String(decoding: portPart, as: UTF8.self)), (1...65535).contains(value)
            else {
                throw HTTPError(.badURL, "\"\(string)\": the port must be a number from 1 to 65535")
            }
            port = value
        } else {
            port = scheme == .https ? 443 : 80
        }

        // The fragment is for the client only and never sent.
        var targetBytes = rest[authorityEnd...]
        if let hash = targetBytes.firstIndex(of: UInt8(ascii: "#")) {
            targetBytes = targetBytes[..<hash]
        }
        guard targetBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw HTTPError(.badURL, "\"\(string)\": spaces, control and non-ASCII characters must be percent-encoded")
        }
        let path = String(decoding: targetBytes, as: UTF8.self)
        target = path.isEmpty ? "/" : (path.hasPrefix("?") ? "/" + path : path)
        // Computed once here: every request writes it.
        let name = host.contains(":") ? "[\(host)]" : host
        hostHeader = port == (scheme == .https ? 443 : 80) ? name : "\(name):\(port)"
    }

    public var description: String { "\(scheme.rawValue)://\(hostHeader)\(target)" }

    private static func dropPrefix(_ prefix: String, from bytes: [UInt8]) -> ArraySlice<UInt8>? {
        let prefixBytes = Array(prefix.utf8)
        guard bytes.count >= prefixBytes.count else { return nil }
        for (index, byte) in prefixBytes.enumerated() where Self.lowercased(bytes[index]) != byte {
            return nil
        }
        return bytes[prefixBytes.count...]
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= 65 && byte <= 90 ? byte + 32 : byte
    }

    private static func isHostNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }
}

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
    ///
    /// The host must be a valid IPv6 address in brackets (without a zone: `%`
    /// is refused), a valid IPv4 address, or a DNS name: labels of letters,
    /// digits, `-` and `_`, 1 to 63 bytes, not starting or ending with `-`, and
    /// a last label that is not a number (`1.2.3` is no name, and no address).
    public init(_ string: String) throws(HTTPError) {
        let bytes = Array(string.utf8)
        // For error messages only: quoted, cut short, with no byte that could break a log line.
        func shown() -> String {
            "\"\(string.prefix(200).escapingControlCharacters())\(bytes.count > 200 ? "..." : "")\""
        }
        let rest: ArraySlice<UInt8>
        if let after = Self.dropPrefix("http://", from: bytes) {
            scheme = .http
            rest = after
        } else if let after = Self.dropPrefix("https://", from: bytes) {
            scheme = .https
            rest = after
        } else {
            throw HTTPError(.badURL, "\(shown()) is not an http:// or https:// URL")
        }

        let authorityEnd = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? rest.endIndex
        let authority = rest[rest.startIndex..<authorityEnd]
        guard !authority.contains(UInt8(ascii: "@")) else {
            throw HTTPError(.badURL, "\(shown()): user information in URLs is not supported")
        }

        var hostPart: ArraySlice<UInt8>
        var portPart: ArraySlice<UInt8>?
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else {
                throw HTTPError(.badURL, "\(shown()): unclosed [ in the host")
            }
            hostPart = authority[(authority.startIndex + 1)..<close]
            let after = authority[(close + 1)...]
            if let colon = after.first {
                guard colon == UInt8(ascii: ":") else {
                    throw HTTPError(.badURL, "\(shown()): unexpected text after the IPv6 address")
                }
                portPart = after.dropFirst()
            }
            if hostPart.contains(UInt8(ascii: "%")) {
                throw HTTPError(.badURL, "\(shown()): IPv6 zone identifiers (%) are not supported")
            }
            guard SocketAddress.isIPv6(String(decoding: hostPart, as: UTF8.self)) else {
                throw HTTPError(.badURL, "\(shown()): the text in [ ] is not an IPv6 address")
            }
            hostIsIP = true
        } else {
            if let colon = authority.firstIndex(of: UInt8(ascii: ":")) {
                hostPart = authority[authority.startIndex..<colon]
                portPart = authority[(colon + 1)...]
            } else {
                hostPart = authority
            }
            hostIsIP = SocketAddress.isIPv4(String(decoding: hostPart, as: UTF8.self))
            guard hostIsIP || Self.isHostName(hostPart) else {
                throw HTTPError(.badURL, "\(shown()): the host is not an IP address or a valid host name")
            }
        }
        host = String(decoding: hostPart, as: UTF8.self).lowercased()

        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  let value = Int(String(decoding: portPart, as: UTF8.self)), (1...65535).contains(value)
            else {
                throw HTTPError(.badURL, "\(shown()): the port must be a number from 1 to 65535")
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
            throw HTTPError(.badURL, "\(shown()): spaces, control and non-ASCII characters must be percent-encoded")
        }
        let path = String(decoding: targetBytes, as: UTF8.self)
        target = path.isEmpty ? "/" : (path.hasPrefix("?") ? "/" + path : path)
        // Computed once here: every request writes it.
        let name = host.contains(":") ? "[\(host)]" : host
        hostHeader = port == (scheme == .https ? 443 : 80) ? name : "\(name):\(port)"
    }

    /// Whether `text` may be a URL's host: an IPv4 address, an IPv6 address
    /// (without brackets or a zone) or a host name as `init` accepts them.
    public static func isValidHost(_ text: String) -> Bool {
        isIPAddress(text) || isHostName(Array(text.utf8)[...])
    }

    /// Whether `text` is a numeric IPv4 or IPv6 address (without brackets or a zone).
    public static func isIPAddress(_ text: String) -> Bool {
        SocketAddress.isIPv4(text) || SocketAddress.isIPv6(text)
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

    /// A DNS name as RFC 1123 2.1 has it (with `_`, which some internal names
    /// use), at most 253 bytes, one trailing dot allowed. A last label that is
    /// a number (decimal, or 0x hex) is refused, as the WHATWG URL standard
    /// does: getaddrinfo would read `127.1` or `0x7f.1` as an IPv4 address.
    private static func isHostName(_ name: ArraySlice<UInt8>) -> Bool {
        var name = name
        if name.last == UInt8(ascii: ".") { name = name.dropLast() }
        guard !name.isEmpty, name.count <= 253 else { return false }
        var lastLabel = name[...]
        var labelStart = name.startIndex
        for index in name.startIndex...name.endIndex where index == name.endIndex || name[index] == UInt8(ascii: ".") {
            let label = name[labelStart..<index]
            guard !label.isEmpty, label.count <= 63, label.allSatisfy(isHostNameByte),
                  label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-")
            else { return false }
            lastLabel = label
            labelStart = index + 1
        }
        return !isNumber(lastLabel)
    }

    private static func isNumber(_ label: ArraySlice<UInt8>) -> Bool {
        if label.allSatisfy({ $0 >= 48 && $0 <= 57 }) { return true }
        guard label.count >= 2, label.first == UInt8(ascii: "0"), lowercased(label[label.startIndex + 1]) == UInt8(ascii: "x") else {
            return false
        }
        return label.dropFirst(2).allSatisfy { ($0 >= 48 && $0 <= 57) || (lowercased($0) >= 97 && lowercased($0) <= 102) }
    }

    private static func isHostNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }
}

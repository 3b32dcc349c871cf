#if canImport(Glibc)
import Glibc
#else
import CSystem
#endif

/// An IPv4 or IPv6 address with a port, in the form connect(2) takes.
struct SocketAddress: CustomStringConvertible, Sendable {
    private var storage = sockaddr_storage()
    private(set) var length: socklen_t = 0
    let family: Int32
    let description: String

    private init(family: Int32, description: String) {
        self.family = family
        self.description = description
    }

    /// The address for a numeric IPv4 text, or nil.
    static func ipv4(_ text: String, port: Int) -> SocketAddress? {
        var address = sockaddr_in()
        // inet_pton reads a C string: a NUL would end the text early, so every byte is checked first.
        guard text.utf8.allSatisfy(isIPv4Byte), let binary = System.ipv4Address(text) else { return nil }
        address.sin_addr = binary
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        var result = SocketAddress(family: AF_INET, description: "\(text):\(port)")
        result.store(address)
        return result
    }

    /// The address for a numeric IPv6 text (no brackets), or nil.
    static func ipv6(_ text: String, port: Int) -> SocketAddress? {
        var address = sockaddr_in6()
        guard text.utf8.allSatisfy(isIPv6Byte), let binary = System.ipv6Address(text) else { return nil }
        address.sin6_addr = binary
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = UInt16(port).bigEndian
        var result = SocketAddress(family: AF_INET6, description: "[\(text)]:\(port)")
        result.store(address)
        return result
    }

    static func isIPv4(_ text: String) -> Bool { ipv4(text, port: 1) != nil }
    static func isIPv6(_ text: String) -> Bool { ipv6(text, port: 1) != nil }

    private static func isIPv4Byte(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || byte == UInt8(ascii: ".")
    }

    /// Hex digits, `:` and the dots of an embedded IPv4 address (`::ffff:10.0.0.1`).
    private static func isIPv6Byte(_ byte: UInt8) -> Bool {
        switch byte {
        case 48...57, 65...70, 97...102, UInt8(ascii: ":"), UInt8(ascii: "."): return true
        default: return false
        }
    }

    /// The addresses to try for `host`, in order.
    ///
    /// Numeric hosts and `localhost` never consult NSS: a static binary in an
    /// empty image has no NSS modules. Other names go through getaddrinfo(3),
    /// whose waits are bounded by the resolver's own settings (resolv.conf).
    static func resolve(host: String, port: Int) throws(HTTPError) -> [SocketAddress] {
        if let address = ipv4(host, port: port) ?? ipv6(host, port: port) {
            return [address]
        }
        if host == "localhost" || host.hasSuffix(".localhost") {
            return [ipv4("127.0.0.1", port: port)!, ipv6("::1", port: port)!]
        }
        let addresses: [SocketAddress]
        do {
            addresses = try System.getaddrinfo(host: host, port: port)
        } catch {
            throw HTTPError(.resolve, "cannot resolve \(host): \(error.reason)")
        }
        guard !addresses.isEmpty else { throw HTTPError(.resolve, "\(host) has no IPv4 or IPv6 address") }
        return addresses
    }

    /// Calls `body` with the C view of the address, for connect(2).
    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        withUnsafeBytes(of: storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
        }
    }

    private mutating func store<Address>(_ address: Address) {
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.storeBytes(of: address, as: Address.self)
        }
        length = socklen_t(MemoryLayout<Address>.size)
    }
}

import XCTest
@testable import HTTPLite

final class HTTPURLTests: XCTestCase {
    func testNamesAddressesPortsAndTargets() throws {
        let plain = try HTTPURL("http://127.0.0.1:6001/usage")
        XCTAssertEqual(plain.scheme, .http)
        XCTAssertEqual(plain.host, "127.0.0.1")
        XCTAssertEqual(plain.port, 6001)
        XCTAssertEqual(plain.target, "/usage")
        XCTAssertTrue(plain.hostIsIP)
        XCTAssertEqual(plain.hostHeader, "127.0.0.1:6001")

        let named = try HTTPURL("HTTPS://Kubernetes.Default.svc/api/v1/pods?limit=5&x=y#frag")
        XCTAssertEqual(named.scheme, .https)
        XCTAssertEqual(named.host, "kubernetes.default.svc")
        XCTAssertEqual(named.port, 443)
        XCTAssertEqual(named.target, "/api/v1/pods?limit=5&x=y")
        XCTAssertFalse(named.hostIsIP)
        XCTAssertEqual(named.hostHeader, "kubernetes.default.svc")

        let v6 = try HTTPURL("https://[fd00::1]:6443")
        XCTAssertEqual(v6.host, "fd00::1")
        XCTAssertEqual(v6.port, 6443)
        XCTAssertEqual(v6.target, "/")
        XCTAssertTrue(v6.hostIsIP)
        XCTAssertEqual(v6.hostHeader, "[fd00::1]:6443")
        XCTAssertEqual(try HTTPURL("https://[::1]").hostHeader, "[::1]")
        XCTAssertEqual(try HTTPURL("http://h?q=1").target, "/?q=1")
        XCTAssertEqual(try HTTPURL("http://h:80/").hostHeader, "h")
    }

    func testRejectsWhatItCannotUse() {
        let bad = [
            "ftp://host/", "host/path", "http://", "http:///path", "http://user@host/", "http://[::1/",
            "http://[not-v6]/", "http://[::1]x/", "http://host:0/", "http://host:65536/", "http://host:12ab/",
            "http://host:/", "http://ho st/", "http://host/a b", "http://host/\u{e9}", "http://host/\u{7}",
        ]
        for text in bad {
            XCTAssertThrowsError(try HTTPURL(text), text) { error in
                XCTAssertEqual((error as? HTTPError)?.code, .badURL, text)
            }
        }
    }

    func testLocalhostResolvesWithoutNSS() throws {
        let addresses = try SocketAddress.resolve(host: "localhost", port: 80)
        XCTAssertEqual(addresses.map(\.description), ["127.0.0.1:80", "[::1]:80"])
        XCTAssertEqual(try SocketAddress.resolve(host: "::1", port: 8).map(\.description), ["[::1]:8"])
    }
}

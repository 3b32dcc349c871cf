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

    func testHostsHoldOnlyWhatANameOrAddressAllows() {
        let bad = [
            "http://[::1\u{0}\r\nX-Injected: yes\r\n]:8080/usage", "http://[::1\u{0}]/", "http://[::1 ]/",
            "http://[fe80::1%eth0]/", "http://[fe80::1%25eth0]/", "http://[]/", "http://[1.2.3.4]/",
            "http://127.0.0.1\u{0}.evil/", "http://-/", "http://-a/", "http://a-/", "http://a..b/", "http://.a/",
            "http://a.-b/", "http://\(String(repeating: "a", count: 64)).com/", "http://1.2.3/", "http://127.1/",
            "http://256.1.1.1/", "http://01.2.3.4/", "http://a.0x7f/", "http://example.123/", "http://a\u{e9}/",
            "http://a%41/", "http://a\\b/", "http://./",
        ]
        for text in bad {
            XCTAssertThrowsError(try HTTPURL(text), text.debugDescription) { error in
                let error = error as? HTTPError
                XCTAssertEqual(error?.code, .badURL, text.debugDescription)
                XCTAssertFalse(error?.detail.utf8.contains { $0 < 32 } ?? true, "an error names the URL without control bytes")
            }
        }
        let good = ["http://a/", "http://a-b.c_d.example./", "http://x1.y2/", "http://\(String(repeating: "a", count: 63))/",
                    "http://[::ffff:10.0.0.1]/", "http://[FD00::1]/", "http://1.2.3.4/", "http://k8s.0x7g/"]
        for text in good {
            XCTAssertNoThrow(try HTTPURL(text), text)
        }
        XCTAssertFalse(SocketAddress.isIPv6("::1\u{0}\r\nX: y"))
        XCTAssertFalse(SocketAddress.isIPv4("127.0.0.1\u{0}x"))
    }

    func testLocalhostResolvesWithoutNSS() throws {
        let addresses = try SocketAddress.resolve(host: "localhost", port: 80)
        XCTAssertEqual(addresses.map(\.description), ["127.0.0.1:80", "[::1]:80"])
        XCTAssertEqual(try SocketAddress.resolve(host: "::1", port: 8).map(\.description), ["[::1]:8"])
    }
}

import XCTest
@testable import Watcher

final class APIEndpointTests: XCTestCase {
    private func resolve(_ environment: [String: String], files: Set<String> = []) -> Result<APIEndpoint, SettingErrors> {
        APIEndpoint.resolve(environment: environment, fileExists: { files.contains($0) })
    }

    func testClusterIsTheDefaultInAPodAndBracketsIPv6() throws {
        let dir = "/sa"
        let endpoint = try resolve(["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443",
                                    "SERVICE_ACCOUNT_DIR": dir], files: ["/sa/token", "/sa/ca.crt"]).get()
        XCTAssertEqual(endpoint.mode, "cluster")
        XCTAssertEqual(endpoint.baseURL.description, "https://[fd00::1]:6443/")
        XCTAssertEqual(endpoint.token, .file("/sa/token"))
        XCTAssertEqual(endpoint.tls.trustRoots, .file("/sa/ca.crt"))
    }

    func testClusterWithoutTheTokenFileSaysWhatItLookedFor() {
        guard case .failure(let failure) = resolve(["KUBERNETES_SERVICE_HOST": "10.0.0.1"]) else {
            return XCTFail("expected an error")
        }
        XCTAssertTrue(failure.errors.contains { $0.accepted.contains("/var/run/secrets/kubernetes.io/serviceaccount/token") })
    }

    /// `1/` was found by the settings fuzz target (it gave `https://1/:443`, path `/:443`); issue 9 names `-?`.
    func testClusterHostAndPortAreCheckedOnTheirOwn() {
        let files: Set<String> = ["/sa/token", "/sa/ca.crt"]
        let cases: [(host: String, port: String, setting: String)] = [
            ("-?", "443", "KUBERNETES_SERVICE_HOST"), ("1/", "443", "KUBERNETES_SERVICE_HOST"),
            ("10.0.0.1/x", "443", "KUBERNETES_SERVICE_HOST"), ("10.0.0.1#", "6443", "KUBERNETES_SERVICE_HOST"),
            ("a#b", "443", "KUBERNETES_SERVICE_HOST"), ("::1\u{0}\r\nX-Injected: yes\r\n", "443", "KUBERNETES_SERVICE_HOST"),
            ("fe80::1%eth0", "443", "KUBERNETES_SERVICE_HOST"), ("a@b", "443", "KUBERNETES_SERVICE_HOST"),
            ("10.0.0.1", "443?x", "KUBERNETES_SERVICE_PORT"), ("10.0.0.1", "443#x", "KUBERNETES_SERVICE_PORT"),
            ("10.0.0.1", "443/x", "KUBERNETES_SERVICE_PORT"), ("10.0.0.1", "0", "KUBERNETES_SERVICE_PORT"),
            ("10.0.0.1", "+443", "KUBERNETES_SERVICE_PORT"),
        ]
        for (host, port, setting) in cases {
            let environment = ["KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port, "SERVICE_ACCOUNT_DIR": "/sa"]
            guard case .failure(let failure) = resolve(environment, files: files) else {
                XCTFail("expected an error for \(host.debugDescription) \(port.debugDescription)")
                continue
            }
            XCTAssertEqual(failure.errors.map(\.setting), [setting], "\(host.debugDescription) \(port.debugDescription)")
            XCTAssertFalse(failure.errors.map(\.description).joined().utf8.contains { $0 < 32 }, "one error, one line")
        }
        let named = resolve(["KUBERNETES_SERVICE_HOST": "Kubernetes.Default.svc", "SERVICE_ACCOUNT_DIR": "/sa"], files: files)
        XCTAssertEqual(try named.get().baseURL.description, "https://kubernetes.default.svc/")
    }

    func testHTTPNeverCarriesAToken() throws {
        let endpoint = try resolve(["KUBE_CONNECTION": "http", "KUBE_HOST": "127.0.0.1:8001", "KUBE_BEARER_TOKEN": "secret"]).get()
        XCTAssertEqual(endpoint.baseURL.description, "http://127.0.0.1:8001/")
        XCTAssertEqual(endpoint.token, .none)
    }

    func testTokenMode() throws {
        let endpoint = try resolve(["KUBE_CONNECTION": "token", "KUBE_HOST": "https://127.0.0.1:6443",
                                    "KUBE_BEARER_TOKEN": "t", "KUBE_CA_PATH": "/ca", "KUBE_VERIFY_SSL": "false"],
                                   files: ["/ca"]).get()
        XCTAssertEqual(endpoint.token, .fixed("t"))
        XCTAssertFalse(endpoint.tls.verifiesPeer)
        XCTAssertEqual(endpoint.tls.trustRoots, .file("/ca"))
    }

    func testBadConnectionSettings() {
        let cases: [([String: String], String)] = [
            ([:], "KUBE_CONNECTION"),
            (["KUBE_CONNECTION": "carrier-pigeon"], "KUBE_CONNECTION"),
            (["KUBE_CONNECTION": "kubeconfig"], "KUBECONFIG_PATH"),
            (["KUBE_CONNECTION": "http"], "KUBE_HOST"),
            (["KUBE_CONNECTION": "http", "KUBE_HOST": "https://x"], "KUBE_HOST"),
            (["KUBE_CONNECTION": "token", "KUBE_HOST": "https://x"], "KUBE_BEARER_TOKEN"),
            (["KUBE_CONNECTION": "token", "KUBE_HOST": "https://x", "KUBE_BEARER_TOKEN": "t", "KUBE_CA_PATH": "/missing"], "KUBE_CA_PATH"),
            (["KUBE_CONNECTION": "token", "KUBE_HOST": "https://x", "KUBE_BEARER_TOKEN": "t", "KUBE_VERIFY_SSL": "perhaps"], "KUBE_VERIFY_SSL"),
        ]
        for (environment, setting) in cases {
            guard case .failure(let failure) = resolve(environment) else {
                XCTFail("expected an error for \(environment)")
                continue
            }
            XCTAssertEqual(failure.errors.first?.setting, setting, "\(environment)")
        }
    }
}

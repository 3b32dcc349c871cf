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

    /// Found by the settings fuzz target (`KUBERNETES_SERVICE_HOST=1/` gave `https://1/:443` with the path `/:443`);
    /// issue 9 names `-?`. A `#` would silently drop the port that follows it.
    func testClusterHostAndPortCannotEndTheAuthority() {
        let cases = [("1/", "443"), ("-?", "443"), ("10.0.0.1#", "6443"), ("10.0.0.1", "443/x"), ("10.0.0.1", "6443#x")]
        for (host, port) in cases {
            let environment = ["KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": port, "SERVICE_ACCOUNT_DIR": "/sa"]
            switch resolve(environment, files: ["/sa/token", "/sa/ca.crt"]) {
            case .success(let endpoint):
                XCTFail("\(host) and \(port) gave \(endpoint.baseURL)")
            case .failure(let failure):
                XCTAssertEqual(failure.errors.map(\.setting), ["KUBERNETES_SERVICE_HOST"], "\(host) and \(port)")
            }
        }
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

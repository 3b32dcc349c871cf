import HTTPLite
import XCTest
@testable import Watcher

final class APIEndpointTrustTests: XCTestCase {
    private func resolve(_ environment: [String: String], files: Set<String> = []) throws -> APIEndpoint {
        try APIEndpoint.resolve(environment: environment, fileExists: { files.contains($0) }).get()
    }

    private let token = ["KUBE_CONNECTION": "token", "KUBE_HOST": "https://127.0.0.1:6443", "KUBE_BEARER_TOKEN": "t"]

    func testEachModeNamesTheSettingThatSuppliesTheCA() throws {
        let cluster = try resolve(["KUBERNETES_SERVICE_HOST": "10.0.0.1", "SERVICE_ACCOUNT_DIR": "/sa"],
                                  files: ["/sa/token", "/sa/ca.crt"])
        XCTAssertEqual(cluster.certificateAuthoritySetting, "the service account's ca.crt (/sa/ca.crt)")
        let withCA = try resolve(token.merging(["KUBE_CA_PATH": "/ca.pem"]) { $1 }, files: ["/ca.pem"])
        XCTAssertEqual(withCA.certificateAuthoritySetting, "KUBE_CA_PATH (/ca.pem)")
        XCTAssertEqual(try resolve(token).certificateAuthoritySetting, "KUBE_CA_PATH (unset: the system's CA paths)")
    }

    func testOnlyATurnedOffVerificationOverHTTPSIsWarnedAbout() throws {
        let off = try resolve(token.merging(["KUBE_VERIFY_SSL": "false"]) { $1 })
        XCTAssertEqual(off.verificationOffSetting, "KUBE_VERIFY_SSL=false")
        XCTAssertNil(try resolve(token).verificationOffSetting)
        XCTAssertNil(try resolve(["KUBE_CONNECTION": "http", "KUBE_HOST": "127.0.0.1:8001"]).verificationOffSetting)
    }

    func testOnlyTheCertificateRejectedCodeStopsRetries() {
        func failure(_ code: HTTPError.Code, _ message: String) -> APIFailure {
            APIFailure(.transport(code), reason: code.name, message: message)
        }
        let rejected = failure(.certificateRejected, "TLS handshake failed: certificate verify failed: certificate has expired")
        XCTAssertTrue(rejected.rejectsCertificate)
        XCTAssertFalse(rejected.isRetryable)
        // The decision is the code's: a handshake failure whose text looks alike is still retried.
        let other = failure(.tls, "TLS handshake failed: certificate verify failed: made up")
        XCTAssertFalse(other.rejectsCertificate)
        XCTAssertTrue(other.isRetryable)
        XCTAssertTrue(failure(.tls, "TLS handshake failed: the peer closed the connection during the handshake").isRetryable)
        XCTAssertFalse(APIFailure(.status(403), reason: HTTPError.Code.certificateRejected.name, message: "")
                        .rejectsCertificate)
    }
}

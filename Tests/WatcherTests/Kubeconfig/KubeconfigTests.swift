import HTTPLite
import XCTest
@testable import Watcher

/// Kubeconfig modes of `APIEndpoint.resolve` over an in-memory file system and a fake exec plugin runner.
final class KubeconfigTests: XCTestCase {
    private let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    private var files: [String: String] = [:]
    private var pluginRuns: [ExecPlugin] = []
    private var pluginAnswer: Result<ExecCredential, KubeconfigError> = .success(
        ExecCredential(token: "from-plugin", certificate: nil, key: nil, expiry: nil))

    private func resolve(_ environment: [String: String]) -> Result<APIEndpoint, SettingErrors> {
        let files = self.files
        return APIEndpoint.resolve(
            environment: environment, fileExists: { files[$0] != nil },
            readFile: { path in
                files[path].map { .success(Array($0.utf8)) } ?? .failure(HTTPError(.system, "No such file or directory"))
            },
            runPlugin: { plugin in
                self.pluginRuns.append(plugin)
                return self.pluginAnswer
            })
    }

    private func endpoint(_ environment: [String: String], file: StaticString = #filePath, line: UInt = #line) -> APIEndpoint? {
        switch resolve(environment) {
        case .success(let endpoint): return endpoint
        case .failure(let failure):
            XCTFail("unexpected \(failure.errors)", file: file, line: line)
            return nil
        }
    }

    /// The one error line, as main.swift prints it.
    private func errorLine(_ environment: [String: String], file: StaticString = #filePath, line: UInt = #line) -> String {
        guard case .failure(let failure) = resolve(environment) else {
            XCTFail("expected an error", file: file, line: line)
            return ""
        }
        XCTAssertEqual(failure.errors.count, 1, file: file, line: line)
        return failure.errors.first?.description ?? ""
    }

    private func config(cluster: String = "c", user: String = "u", context: String = "ctx", current: String? = "ctx",
                        clusterFields: String = "server: https://127.0.0.1:6443", userFields: String = "token: t",
                        contextFields: String = "") -> String {
        """
        apiVersion: v1
        clusters:
        - cluster:
            \(clusterFields.split(separator: "\n").joined(separator: "\n    "))
          name: \(cluster)
        contexts:
        - context:
            cluster: \(cluster)
            user: \(user)
            \(contextFields.split(separator: "\n").joined(separator: "\n    "))
          name: \(context)
        \(current.map { "current-context: " + $0 } ?? "")
        kind: Config
        users:
        - name: \(user)
          user:
            \(userFields.split(separator: "\n").joined(separator: "\n    "))

        """
    }

    func testKubeconfigModeReadsThePathAndTheCurrentContext() throws {
        files["/k/config"] = config(contextFields: "namespace: team")
        let endpoint = try XCTUnwrap(endpoint(["KUBE_CONNECTION": "kubeconfig", "KUBECONFIG_PATH": "/k/config"]))
        XCTAssertEqual(endpoint.mode, "kubeconfig")
        XCTAssertEqual(endpoint.baseURL.description, "https://127.0.0.1:6443/")
        XCTAssertEqual(endpoint.token, .fixed("t"))
        XCTAssertEqual(endpoint.namespaceFromFile, "team")
        XCTAssertEqual(endpoint.source, "KUBECONFIG_PATH /k/config, context ctx")
        XCTAssertTrue(endpoint.tls.verifiesPeer)
        XCTAssertNil(endpoint.tls.trustRoots)
    }

    func testDefaultPathIsUnderHOME() throws {
        files["/home/me/.kube/config"] = config()
        let endpoint = try XCTUnwrap(endpoint(["KUBE_CONNECTION": "kubeconfig", "HOME": "/home/me"]))
        XCTAssertEqual(endpoint.source, "KUBECONFIG_PATH /home/me/.kube/config, context ctx")
        XCTAssertTrue(errorLine(["KUBE_CONNECTION": "kubeconfig"]).hasPrefix("KUBECONFIG_PATH=\"\":"))
    }

    func testContextSelection() throws {
        files["/k/config"] = """
            clusters:
            - name: a
              cluster:
                server: https://127.0.0.1:1
            - name: b
              cluster:
                server: https://127.0.0.1:2
            contexts:
            - name: first
              context:
                cluster: a
            - name: second
              context:
                cluster: b
            current-context: first
            """
        XCTAssertEqual(endpoint(["KUBE_CONNECTION": "kubeconfig", "KUBECONFIG_PATH": "/k/config"])?.baseURL.port, 1)
        let chosen = endpoint(["KUBE_CONNECTION": "kubeconfig", "KUBECONFIG_PATH": "/k/config", "KUBECONFIG_CONTEXT": "second"])
        XCTAssertEqual(chosen?.baseURL.port, 2)
        XCTAssertEqual(chosen?.token, APIEndpoint.Token.none)
        XCTAssertEqual(chosen?.source, "KUBECONFIG_PATH /k/config, context second")
    }

    func testContextErrorsNameTheFileAndTheEntry() {
        files["/k/config"] = config()
        let base = ["KUBE_CONNECTION": "kubeconfig", "KUBECONFIG_PATH": "/k/config"]
        XCTAssertEqual(errorLine(base.merging(["KUBECONFIG_CONTEXT": "nope"]) { $1 }),
                       "KUBECONFIG_PATH=\"/k/config\": /k/config has no context \"nope\" (contexts: ctx)")
        files["/k/config"] = config(current: nil)
        XCTAssertTrue(errorLine(base).contains("/k/config has no current-context"))
        files["/k/config"] = config().replacing("    cluster: c\n", with: "    cluster: gone\n")
        XCTAssertEqual(errorLine(base), "KUBECONFIG_PATH=\"/k/config\": context \"ctx\" in /k/config names cluster \"gone\", which /k/config does not define")
        files["/k/config"] = config().replacing("    user: u\n", with: "    user: ghost\n")
        XCTAssertEqual(errorLine(base), "KUBECONFIG_PATH=\"/k/config\": context \"ctx\" in /k/config names user \"ghost\", which /k/config does not define")
        XCTAssertEqual(errorLine(["KUBE_CONNECTION": "kubeconfig", "KUBECONFIG_PATH": "/missing"]),
                       "KUBECONFIG_PATH=\"/missing\": cannot read /missing (missing or not readable)")
        files["/k/config"] = "clusters:\n- name: c\n  cluster: &x\n"
        XCTAssertEqual(errorLine(base), "KUBECONFIG_PATH=\"/k/config\": /k/config: line 3: anchors (&) are not supported")
        files["/k/config"] = "clusters:\n- name: c\n- name: c\n"
        XCTAssertEqual(errorLine(base), "KUBECONFIG_PATH=\"/k/config\": /k/config: cluster \"c\" is defined twice")
    }

    func testServerURLCannotInjectHeaderLines() {
        let base = ["KUBE_CONNECTION": "kubeconfig", "KUBECONFIG_PATH": "/k/config"]
        for server in ["\"http://[::1\\0\\r\\nX-Injected: yes\\r\\n]:8080\"", "\"https://127.0.0.1\\0\\r\\nX: y\"",
                       "\"https://a\\r\\nX-Injected: yes\"", "https://[fe80::1%eth0]:6443", "https://-"] {
            files["/k/config"] = config(clusterFields: "server: \(server)")
            let line = errorLine(base)
            XCTAssertTrue(line.contains("server is not an http(s):// URL without a path"), line)
            XCTAssertFalse(line.utf8.contains { $0 < 32 }, line.debugDescription)
        }
    }

    func testRelativePathsAreRelativeToTheirOwnFile() throws {
        files["/k/dir/config"] = config(clusterFields: "server: https://127.0.0.1:6443\ncertificate-authority: ca.crt",
                                        userFields: "client-certificate: certs/me.crt\nclient-key: /abs/me.key")
        files["/k/dir/ca.crt"] = pem
        files["/k/dir/certs/me.crt"] = pem
        files["/abs/me.key"] = "-----BEGIN PRIVATE KEY-----\n"
        let endpoint = try XCTUnwrap(endpoint(["KUBE_CONNECTION": "kubeconfig", "KUBECONFIG_PATH": "/k/dir/config"]))
        XCTAssertEqual(endpoint.tls.trustRoots, .file("/k/dir/ca.crt"))
        XCTAssertEqual(endpoint.tls.certificate, .file("/k/dir/certs/me.crt"))
        XCTAssertEqual(endpoint.tls.privateKey, .file("/abs/me.key"))
        XCTAssertEqual(endpoint.token, APIEndpoint.Token.none)
        XCTAssertEqual(resolveKubeconfigPath("x/y", relativeTo: "config"), "x/y")
        XCTAssertEqual(resolveKubeconfigPath("x", relativeTo: "/config"), "/x")
    }

    func testEmbeddedDataAndClusterOptions() throws {
        let data = Base64.encode(Array(pem.utf8))
        files["/k/config"] = config(clusterFields: "server: https://127.0.0.1:6443\ncertificate-authority-data: \(data)\ncertificate-authority: ignored.crt\ntls-server-name: kubernetes.internal",
                                    userFields: "client-certificate-data: \(data)\nclient-key-data: \(Base64.encode(Array("-----BEGIN EC PRIVATE KEY-----\n".utf8)))")
        let endpoint = try XCTUnwrap(endpoint(["KUBE_CONNECTION": "kubeconfig", "KUBECONFIG_PATH": "/k/config"]))
        XCTAssertEqual(endpoint.tls.trustRoots, .bytes(Array(pem.utf8)))
        XCTAssertEqual(endpoint.tls.certificate, .bytes(Array(pem.utf8)))
        XCTAssertEqual(endpoint.tls.serverName, "kubernetes.internal")
        XCTAssertEqual(endpoint.token, APIEndpoint.Token.none)

        files["/k/config"] = config(clusterFields: "server: https://127.0.0.1:6443\ninsecure-skip-tls-verify: true")
        XCTAssertEqual(self.endpoint(["KUBE_CONNECTION": "kubeconfig", "KUBECONFIG_PATH": "/k/config"])?.tls.verifiesPeer, false)
    }

    func testCertificateErrors() {
        let base = ["KUBE_CONNECTION": "kubeconfig", "KUBECONFIG_PATH": "/k/config"]
        files["/k/config"] = config(clusterFields: "server: https://127.0.0.1:6443\ncertificate-authority-data: not*base64")
        XCTAssertEqual(errorLine(base), "KUBECONFIG_PATH=\"/k/config\": cluster \"c\" in /k/config: certificate-authority-data is not valid base64")
        files["/k/config"] = config(clusterFields: "server: https://127.0.0.1:6443\ncertificate-authority: nothere.crt")
        XCTAssertEqual(errorLine(base), "KUBECONFIG_PATH=\"/k/config\": cluster \"c\" in /k/config: cannot read certificate-authority /k/nothere.crt: No such file or directory")
        files["/k/config"] = config(userFields: "client-certificate-data: \(Base64.encode([1, 2, 3]))\nclient-key-data: \(Base64.encode([1]))")
        XCTAssertEqual(errorLine(base), "KUBECONFIG_PATH=\"/k/config\": user \"u\" in /k/config: client-certificate-data holds no PEM block")
        files["/k/config"] = config(userFields: "tokenFile: token.txt")
        XCTAssertEqual(errorLine(base), "KUBECONFIG_PATH=\"/k/config\": user \"u\" in /k/config: tokenFile /k/token.txt cannot be read")
        files["/k/token.txt"] = "secret"
        XCTAssertEqual(endpoint(base)?.token, .file("/k/token.txt"))
        files["/k/config"] = config(userFields: "username: admin\npassword: secret")
        XCTAssertTrue(errorLine(base).contains("username is not supported"))
    }

    func testEnvironmentModeMergesLikeKubectl() throws {
        // The first file to define a name wins; current-context comes from the first file that has one.
        files["/a/config"] = config(cluster: "shared", user: "ua", context: "ca", current: nil,
                                    clusterFields: "server: https://127.0.0.1:1111")
        files["/b/config"] = config(cluster: "shared", user: "ub", context: "cb", current: "cb",
                                    clusterFields: "server: https://127.0.0.1:2222\ncertificate-authority: ca.crt",
                                    userFields: "token: from-b")
        files["/c/config"] = config(cluster: "other", user: "uc", context: "cc", current: "cc")
        let endpoint = try XCTUnwrap(endpoint(["KUBE_CONNECTION": "environment",
                                               "KUBECONFIG": "/a/config::/missing:/b/config:/c/config:/a/config"]))
        XCTAssertEqual(endpoint.mode, "environment")
        XCTAssertEqual(endpoint.baseURL.port, 1111, "cluster \"shared\" comes from the first file")
        XCTAssertEqual(endpoint.token, .fixed("from-b"), "context cb and user ub from the second file")
        XCTAssertNil(endpoint.tls.trustRoots)
        XCTAssertEqual(endpoint.source, "KUBECONFIG /a/config:/b/config:/c/config, context cb")

        var merged = try Kubeconfig.parse(Array(files["/a/config"]!.utf8), file: "/a/config")
        merged.merge(try Kubeconfig.parse(Array(files["/b/config"]!.utf8), file: "/b/config"))
        XCTAssertEqual(merged.clusters["shared"]?.file, "/a/config")
        XCTAssertEqual(merged.users.keys.sorted(), ["ua", "ub"])
        XCTAssertEqual(merged.currentContext, "cb")

        XCTAssertEqual(errorLine(["KUBE_CONNECTION": "environment", "KUBECONFIG": "/x:/y"]),
                       "KUBECONFIG=\"/x:/y\": none of its files can be read: /x, /y")
        XCTAssertTrue(errorLine(["KUBE_CONNECTION": "environment"]).hasPrefix("KUBECONFIG=\"\":"))
    }

    func testRelativePathsOfMergedEntriesUseTheirOwnFolder() throws {
        files["/a/config"] = config(current: "ctx", clusterFields: "server: https://127.0.0.1:1\ncertificate-authority: ca.crt")
        files["/b/config"] = config(cluster: "c2", user: "u2", context: "ctx2", current: nil, userFields: "tokenFile: tok")
        files["/a/config"] = files["/a/config"]!.replacing("    user: u\n", with: "    user: u2\n")
        files["/a/ca.crt"] = pem
        files["/b/tok"] = "t"
        let endpoint = try XCTUnwrap(endpoint(["KUBE_CONNECTION": "environment", "KUBECONFIG": "/a/config:/b/config"]))
        XCTAssertEqual(endpoint.tls.trustRoots, .file("/a/ca.crt"))
        XCTAssertEqual(endpoint.token, .file("/b/tok"))
    }

    func testFallbackOutsideAPod() throws {
        files["/home/me/.kube/config"] = config(clusterFields: "server: https://127.0.0.1:1")
        files["/env/config"] = config(clusterFields: "server: https://127.0.0.1:2")
        XCTAssertEqual(endpoint(["HOME": "/home/me"])?.baseURL.port, 1)
        XCTAssertEqual(endpoint(["HOME": "/home/me"])?.source,
                       "~/.kube/config (no KUBE_CONNECTION, not in a pod) /home/me/.kube/config, context ctx")
        XCTAssertEqual(endpoint(["HOME": "/home/me", "KUBECONFIG": "/env/config"])?.baseURL.port, 2)
        XCTAssertEqual(endpoint(["HOME": "/home/me", "KUBECONFIG": "/env/config"])?.mode, "environment")
        // In a pod the service account wins; KUBE_CONNECTION always wins.
        XCTAssertEqual(endpoint(["HOME": "/home/me", "KUBE_CONNECTION": "http", "KUBE_HOST": "127.0.0.1:8001"])?.mode, "http")
        let message = errorLine(["HOME": "/nobody"])
        XCTAssertTrue(message.contains("KUBECONFIG and ~/.kube/config (/nobody/.kube/config)"), message)
    }

    func testJSONKubeconfig() throws {
        files["/k/config.json"] = #"{"apiVersion": "v1", "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:7"}}], "contexts": [{"name": "x", "context": {"cluster": "c", "namespace": "json"}}], "current-context": "x"}"#
        let endpoint = try XCTUnwrap(endpoint(["KUBE_CONNECTION": "kubeconfig", "KUBECONFIG_PATH": "/k/config.json"]))
        XCTAssertEqual(endpoint.baseURL.port, 7)
        XCTAssertEqual(endpoint.namespaceFromFile, "json")
        files["/k/config.json"] = "  {\"clusters\": [1,"
        XCTAssertTrue(errorLine(["KUBE_CONNECTION": "kubeconfig", "KUBECONFIG_PATH": "/k/config.json"]).contains("/k/config.json: "))
    }

    func testExecPluginIsReadAndRunOnceAtStart() throws {
        files["/k/config"] = config(userFields: """
            exec:
              apiVersion: client.authentication.k8s.io/v1
              command: bin/plugin
              args:
              - --flag
              - "two words"
              env:
              - name: FOO
                value: bar
              interactiveMode: Never
              provideClusterInfo: true
            """, contextFields: "")
        let endpoint = try XCTUnwrap(endpoint(["KUBE_CONNECTION": "kubeconfig", "KUBECONFIG_PATH": "/k/config"]))
        XCTAssertEqual(pluginRuns.count, 1)
        let plugin = try XCTUnwrap(pluginRuns.first)
        XCTAssertEqual(plugin.command, "/k/bin/plugin")
        XCTAssertEqual(plugin.arguments, ["--flag", "two words"])
        XCTAssertEqual(plugin.environment, ["FOO=bar"])
        XCTAssertEqual(plugin.execInfo, #"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://127.0.0.1:6443"},"interactive":false}}"#)
        XCTAssertEqual(endpoint.token, .exec(plugin, first: ExecCredential(token: "from-plugin", certificate: nil, key: nil, expiry: nil)))

        pluginAnswer = .success(ExecCredential(token: nil, certificate: Array(pem.utf8), key: [1], expiry: 5))
        XCTAssertEqual(self.endpoint(["KUBE_CONNECTION": "kubeconfig", "KUBECONFIG_PATH": "/k/config"])?.tls.certificate, .bytes(Array(pem.utf8)))
        pluginAnswer = .failure(KubeconfigError(message: "user \"u\" in /k/config: exec plugin failed: boom"))
        XCTAssertEqual(errorLine(["KUBE_CONNECTION": "kubeconfig", "KUBECONFIG_PATH": "/k/config"]),
                       "KUBECONFIG_PATH=\"/k/config\": user \"u\" in /k/config: exec plugin failed: boom")
    }

    func testExecPluginSettingsAreChecked() {
        let base = ["KUBE_CONNECTION": "kubeconfig", "KUBECONFIG_PATH": "/k/config"]
        files["/k/config"] = config(userFields: "exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: plugin")
        XCTAssertEqual(errorLine(base), "KUBECONFIG_PATH=\"/k/config\": exec of user \"u\" in /k/config: interactiveMode must be set for client.authentication.k8s.io/v1")
        files["/k/config"] = config(userFields: "exec:\n  apiVersion: client.authentication.k8s.io/v1alpha1\n  command: plugin")
        XCTAssertTrue(errorLine(base).contains("apiVersion must be"))
        files["/k/config"] = config(userFields: "exec:\n  apiVersion: client.authentication.k8s.io/v1beta1\n  command: plugin\n  interactiveMode: Always")
        XCTAssertTrue(errorLine(base).contains("needs a terminal"))
        files["/k/config"] = config(userFields: "token: t\nexec:\n  apiVersion: client.authentication.k8s.io/v1beta1\n  command: plugin")
        XCTAssertTrue(errorLine(base).contains("exec together with a token"))
        files["/k/config"] = config(userFields: "exec:\n  apiVersion: client.authentication.k8s.io/v1beta1\n  command: plugin")
        XCTAssertEqual(endpoint(base)?.source, "KUBECONFIG_PATH /k/config, context ctx")
        XCTAssertEqual(pluginRuns.last?.command, "plugin", "a bare command is left to PATH")
        XCTAssertTrue(pluginRuns.last?.execInfo.contains("\"cluster\"") == false)
    }
}

import HTTPLite
import JSON

/// A kubeconfig user's `exec` credential plugin (client.authentication.k8s.io
/// v1 or v1beta1), run the way client-go runs it.
struct ExecPlugin: Equatable {
    let command: String
    let arguments: [String]
    /// The kubeconfig's `env` as "NAME=value", added to the watcher's own environment.
    let environment: [String]
    let apiVersion: String
    let installHint: String?
    /// `spec.cluster` of KUBERNETES_EXEC_INFO, when the kubeconfig sets provideClusterInfo.
    let cluster: JSON?
    /// `user "name" in /path`, for messages.
    let origin: String

    /// Seconds a plugin may take before it is killed (client-go waits without a limit; a sidecar cannot).
    static let timeout = 10.0
    static let versions = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]

    /// KUBERNETES_EXEC_INFO as client-go sets it; never interactive, as the watcher has no terminal.
    var execInfo: String {
        var spec = JSONObject()
        if let cluster { spec.append(key: "cluster", value: cluster) }
        spec.append(key: "interactive", value: .bool(false))
        let info: JSON = .object([("kind", .string("ExecCredential")), ("apiVersion", .string(apiVersion)),
                                  ("spec", .object(spec))])
        return info.serialized()
    }

    /// Runs the plugin (killed after `timeout` seconds or when `interrupt` is readable) and
    /// reads the ExecCredential it prints. Throws one line
    /// naming the user, the file and the plugin, with the plugin's stderr.
    func run(interrupt: Int32 = -1, timeout: Double = ExecPlugin.timeout) throws(KubeconfigError) -> ExecCredential {
        let overridden = environment.map(Self.variableName)
        var variables = processEnvironment().filter { !overridden.contains(Self.variableName($0)) && Self.variableName($0) != "KUBERNETES_EXEC_INFO" }
        variables += environment
        variables.append("KUBERNETES_EXEC_INFO=" + execInfo)
        let result: ChildResult
        do {
            result = try runChild([command] + arguments, environment: variables, timeout: timeout, interrupt: interrupt)
        } catch {
            let hint = installHint.map { " (\(Self.oneLine($0)))" } ?? ""
            throw KubeconfigError(message: "\(origin): exec plugin cannot start: \(error)\(hint)")
        }
        if let failure = result.failure {
            let stderr = Self.oneLine(String(decoding: result.standardError, as: UTF8.self))
            throw KubeconfigError(message: "\(origin): exec plugin \(command) failed (\(failure))\(stderr.isEmpty ? "" : ": " + stderr)")
        }
        do {
            return try ExecCredential.parse(result.standardOutput, apiVersion: apiVersion)
        } catch {
            throw KubeconfigError(message: "\(origin): exec plugin \(command): \(error.message)")
        }
    }

    /// A run as a `Result`, the form `APIEndpoint.resolve` takes.
    func runResult() -> Result<ExecCredential, KubeconfigError> {
        Result { () throws(KubeconfigError) -> ExecCredential in try run() }
    }

    private static func variableName(_ entry: String) -> Substring {
        entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }

    /// Several lines of plugin output as one log-friendly line, at most 500 characters.
    static func oneLine(_ text: String) -> String {
        let parts = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).map { $0.trimmingWhitespace() }
        let joined = parts.filter { !$0.isEmpty }.joined(separator: " | ")
        return joined.count > 500 ? String(joined.prefix(500)) + "..." : joined
    }
}

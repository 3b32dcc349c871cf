// libFuzzer target: Settings.parse and APIEndpoint.resolve, compiled into
// Watcher without main.swift (scripts/fuzz.sh). The input is split at NUL
// bytes; a part that starts with an upper-case letter and holds `=` is an
// environment variable, any other part a command-line argument.
// Properties: settings that parse re-parse equal from the flags that spell
// them, and an API server URL resolved from the environment has no path.

import HTTPLite

private let pem = Array("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8)
private let kubeconfig = Array("""
    clusters:
    - cluster:
        server: https://k:6443
      name: c
    contexts:
    - context:
        cluster: c
        user: u
      name: ctx
    current-context: ctx
    users:
    - name: u
      user:
        token: t
    """.utf8)

/// The flags that spell `settings`, one per setting of `Settings.table`; an unset
/// optional setting is left out.
private func flags(for settings: Settings) -> [String] {
    var arguments = [
        "--pod-name=\(settings.podName)", "--echo-app-port=\(settings.echoAppPort)",
        "--memory-percent=\(settings.memoryPercent)", "--flip-after-samples=\(settings.flipAfterSamples)",
        "--checking-interval=\(settings.checkingInterval)", "--test=\(settings.testMode)",
        "--kubernetes-label=\(settings.label)", "--usage-timeout=\(settings.usageTimeout)",
        "--on-usage-failure=\(settings.onUsageFailure.rawValue)",
        "--usage-failure-threshold=\(settings.usageFailureThreshold)",
        "--pod-resync-interval=\(settings.podResyncInterval)", "--startup-timeout=\(settings.startupTimeout)",
        "--api-timeout=\(settings.apiTimeout)", "--verbose=\(settings.verbose)",
        "--log-level=\(settings.logLevel.jsonName)", "--log-format=\(settings.logFormat.rawValue)",
    ]
    // Unset, the Usage URL follows the port; spelled out it would not.
    if let url = settings.givenUsageURL { arguments.append("--usage-url=\(url)") }
    if let namespace = settings.podNamespace { arguments.append("--pod-namespace=\(namespace)") }
    // Unset, the accept threshold follows MEMORY_PERCENT.
    if let accept = settings.acceptPercent { arguments.append("--accept-percent=\(accept)") }
    if let port = settings.httpPort { arguments.append("--http-port=\(port)") }
    if let address = settings.httpAddress { arguments.append("--http-address=\(address)") }
    return arguments
}

/// A setting added to the table must be spelled above too, or the property would
/// pass without looking at it. (Checked once: a global is initialised on first use.)
private let tableIsSpelled: Bool = Settings.table.count == 21

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSettings(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard tableIsSpelled else { fatalError("Settings.table has a setting flags(for:) does not spell") }
    var arguments: [String] = []
    var environment: [String: String] = [:]
    for part in UnsafeBufferPointer(start: data, count: size).split(separator: 0, omittingEmptySubsequences: false) {
        let text = String(decoding: part, as: UTF8.self)
        if let first = part.first, first >= UInt8(ascii: "A"), first <= UInt8(ascii: "Z"), let equals = part.firstIndex(of: UInt8(ascii: "=")) {
            environment[String(decoding: part[..<equals], as: UTF8.self)] = String(decoding: part[(equals + 1)...], as: UTF8.self)
        } else {
            arguments.append(text)
        }
    }
    if case .success(.run(let settings)) = Settings.parse(arguments: arguments, environment: environment) {
        let again = Settings.parse(arguments: flags(for: settings), environment: [:])
        guard case .success(.run(let same)) = again, same == settings else {
            fatalError("\(arguments) \(environment) gave settings that do not read back from their flags: \(again)")
        }
    }
    // Every file exists but the namespace file (which would be read from disk): a
    // path ending in "config" holds a kubeconfig, any other a PEM block.
    let resolved = APIEndpoint.resolve(
        environment: environment,
        fileExists: { !$0.hasSuffix("/namespace") },
        readFile: { .success($0.hasSuffix("config") ? kubeconfig : pem) },
        runPlugin: { _ in .success(ExecCredential(token: "t", certificate: nil, key: nil, expiry: nil)) })
    // Every mode promises an API server URL without a path: request paths are appended to it.
    if case .success(let endpoint) = resolved, endpoint.baseURL.target != "/" {
        fatalError("\(environment) gave the API server URL \(endpoint.baseURL), which has a path")
    }
    return 0
}

import CBuildStamp
import HTTPLite

let watcherVersion = "0.1.0"

/// Variables read besides the settings' own, for the API server connection.
let connectionVariables = [
    "KUBE_CONNECTION", "KUBE_HOST", "KUBE_BEARER_TOKEN", "KUBE_CA_PATH", "KUBE_VERIFY_SSL",
    "KUBE_CERTIFICATE_PATH", "KUBE_KEY_PATH", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT",
    "SERVICE_ACCOUNT_DIR", "KUBECONFIG_PATH", "KUBECONFIG_CONTEXT", "KUBECONFIG", "HOME",
]

func readEnvironment() -> [String: String] {
    var environment: [String: String] = [:]
    for name in settingSpecs.compactMap(\.env) + connectionVariables {
        if let value = System.getenv(name) { environment[name] = value }
    }
    return environment
}

func printToStandardError(_ text: String) {
    System.writeToStandardError(text + "\n")
}

func helpText() -> String {
    var text = """
        network-watcher \(watcherVersion): labels its pod by the Echo Server's memory use.

        usage: network-watcher [network:watch] [flags]

        Settings (flag, then environment variable, then default):

        """
    for spec in settingSpecs {
        let flags = spec.flags.joined(separator: ", ") + (spec.isSwitch ? "" : " VALUE")
        text += "  \(flags)\n      \(spec.env ?? ""): \(spec.help) (default: \(spec.defaultText))\n"
    }
    text += """

        API server connection (environment only):
          KUBE_CONNECTION   cluster (default in a pod), http, token, kubeconfig or environment
                            (outside a pod without it: KUBECONFIG_PATH, KUBECONFIG, then ~/.kube/config)
          KUBE_HOST         API server URL for http and token
          KUBE_BEARER_TOKEN, KUBE_CA_PATH, KUBE_VERIFY_SSL, KUBE_CERTIFICATE_PATH, KUBE_KEY_PATH   for token
          SERVICE_ACCOUNT_DIR   for cluster (default \(APIEndpoint.defaultServiceAccountDir))
          KUBECONFIG_PATH   kubeconfig file for kubeconfig (default ~/.kube/config, from HOME)
          KUBECONFIG        colon-separated kubeconfig files for environment, merged as kubectl does
          KUBECONFIG_CONTEXT   context for kubeconfig and environment (default: current-context)

          --help (or: network-watcher help), --version
        """
    return text
}

/// `--version`: what was built, from what, with what (scripts/build-static.sh stamps the build lines).
func versionText() -> String {
    """
    network-watcher \(watcherVersion)
    commit: \(String(cString: nw_build_commit()))
    built: \(String(cString: nw_build_date()))
    swift: \(String(cString: nw_build_swift()))
    openssl: \(openSSLVersion())
    """
}

func main() -> Int32 {
    let environment = readEnvironment()
    let settings: Settings
    switch Settings.parse(arguments: Array(CommandLine.arguments.dropFirst()), environment: environment) {
    case .failure(let failure):
        failure.errors.forEach { printToStandardError("network-watcher: \($0)") }
        return 2
    case .success(.help):
        print(helpText())
        return 0
    case .success(.version):
        print(versionText())
        return 0
    case .success(.run(let parsed)):
        settings = parsed
    }
    let endpoint: APIEndpoint
    switch APIEndpoint.resolve(environment: environment, fileExists: System.isReadable) {
    case .failure(let failure):
        failure.errors.forEach { printToStandardError("network-watcher: \($0)") }
        return 2
    case .success(let resolved):
        endpoint = resolved
    }
    let namespace = settings.podNamespace ?? endpoint.namespaceFromFile ?? "default"

    let log = Log(level: settings.logLevel, format: settings.logFormat)
    let signals = SignalWatcher()
    log.info("starting network-watcher \(watcherVersion)", [
        "pod": "\(namespace)/\(settings.podName)", "label": settings.label,
        "memory_percent": formatPercent(settings.memoryPercent), "interval": formatSeconds(settings.checkingInterval),
        "usage_url": settings.usageURL.description, "connection": endpoint.mode, "source": endpoint.source,
        "api_server": endpoint.baseURL.description, "on_usage_failure": settings.onUsageFailure.rawValue,
        "test_mode": "\(settings.testMode)",
    ])
    if let setting = endpoint.verificationOffSetting {
        log.warning("the API server's certificate is not verified", ["setting": setting])
    }
    let api = KubeAPI(endpoint: endpoint, timeout: settings.apiTimeout, interrupt: signals.descriptor,
                      clock: monotonicSeconds)
    let usage = UsagePoller(url: settings.usageURL, timeout: settings.usageTimeout, interrupt: signals.descriptor)
    let controller = Controller(settings: settings, namespace: namespace, api: api, usage: usage,
                                signals: signals, log: log)
    return controller.run()
}

System.exit(main())

import CBuildStamp
import HTTPLite

let watcherVersion = "0.1.0"

func printToStandardError(_ text: String) {
    System.writeToStandardError(text + "\n")
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
    // Exec credential plugins (run from the start on) are waited for; an inherited
    // "ignore" would hide how they ended.
    System.restoreDefaultChildSignal()
    let environment = environmentVariables(processEnvironment())
    let settings: Settings
    switch Settings.parse(arguments: System.arguments(), environment: environment) {
    case .failure(let failure):
        failure.errors.forEach { printToStandardError("network-watcher: \($0)") }
        return 2
    case .success(.help):
        print(helpText(version: watcherVersion))
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
        "memory_percent": formatPercent(settings.memoryPercent),
        "accept_percent": formatPercent(settings.acceptPercent ?? settings.memoryPercent),
        "flip_after_samples": "\(settings.flipAfterSamples)", "interval": formatSeconds(settings.checkingInterval),
        "usage_url": settings.usageURL.description, "connection": endpoint.mode, "source": endpoint.source,
        "api_server": endpoint.baseURL.description, "on_usage_failure": settings.onUsageFailure.rawValue,
        "test_mode": "\(settings.testMode)",
    ])
    if let setting = endpoint.verificationOffSetting {
        log.warning("the API server's certificate is not verified", ["setting": setting])
    }
    let pod = PodReference(namespace: namespace, name: settings.podName, uid: "")
    let rules = WatchLoop.Rules(interval: settings.checkingInterval, resyncInterval: settings.podResyncInterval,
                                startupTimeout: settings.startupTimeout, testMode: settings.testMode,
                                threshold: settings.memoryPercent, onUsageFailure: settings.onUsageFailure.rawValue)
    let decisions = LabelController(settings: settings)
    let loop = WatchLoop(rules: rules, decisions: decisions, pod: pod,
                         explain: FailureExplainer(namespace: namespace, podName: settings.podName,
                                                   certificateAuthority: endpoint.certificateAuthoritySetting),
                         random: { Double(UInt64.random(in: 0..<(1 << 53))) / Double(1 << 53) })
    let api = KubeAPI(endpoint: endpoint, pod: pod, label: settings.label, timeout: settings.apiTimeout,
                      interrupt: signals.descriptor)
    let usage = UsagePoller(url: settings.usageURL, timeout: settings.usageTimeout)
    var board: StatusBoard?
    var server: HTTPServer?
    if let port = settings.httpPort {
        let metrics = Metrics(rejectPercent: settings.memoryPercent,
                              acceptPercent: settings.acceptPercent ?? settings.memoryPercent,
                              buildInfo: [("version", watcherVersion), ("revision", String(cString: nw_build_commit())),
                                          ("openssl", openSSLVersion())])
        let status = StatusBoard(metrics: metrics, startedAt: monotonicSeconds(), interval: settings.checkingInterval,
                                 startupTimeout: settings.startupTimeout)
        do {
            server = try HTTPServer(address: settings.httpAddress, port: port) { path in
                status.response(for: path, now: monotonicSeconds())
            }
        } catch {
            log.error("cannot serve the health and metrics endpoints", ["setting": "HTTP_PORT", "error": error.description])
            return 1
        }
        board = status
        log.info("serving /healthz, /readyz and /metrics", ["address": server?.address ?? ""])
    }
    let controller = Controller(loop: loop, api: api, usage: usage, signals: signals, log: log, board: board,
                                server: server)
    return controller.run()
}

System.exit(main())

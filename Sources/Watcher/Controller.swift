import HTTPLite

/// The driver of `WatchLoop`: carries out each step it asks for (a sample, a pod read,
/// a patch, an Event, a wait) and reports back what happened, with the time. It
/// decides nothing: every rule is in `WatchLoop`.
final class Controller {
    private let settings: Settings
    private let namespace: String
    private let api: KubeAPI
    private let usage: UsagePoller
    private let signals: SignalWatcher
    private let log: Log
    private var loop: WatchLoop

    init(settings: Settings, namespace: String, api: KubeAPI, usage: UsagePoller, signals: SignalWatcher, log: Log) {
        self.settings = settings
        self.namespace = namespace
        self.api = api
        self.usage = usage
        self.signals = signals
        self.log = log
        let rules = WatchLoop.Rules(interval: settings.checkingInterval, resyncInterval: settings.podResyncInterval,
                                    startupTimeout: settings.startupTimeout, testMode: settings.testMode,
                                    threshold: settings.memoryPercent, onUsageFailure: settings.onUsageFailure.rawValue)
        let decisions = LabelController(threshold: settings.memoryPercent, policy: settings.onUsageFailure,
                                        failureThreshold: settings.usageFailureThreshold)
        loop = WatchLoop(rules: rules, decisions: decisions,
                         pod: PodReference(namespace: namespace, name: settings.podName, uid: ""),
                         explain: FailureExplainer(namespace: namespace, podName: settings.podName,
                                                   certificateAuthority: api.endpoint.certificateAuthoritySetting),
                         random: { Double(UInt64.random(in: 0..<(1 << 53))) / Double(1 << 53) })
    }

    /// Runs until a signal (exit 0) or a fatal error (exit 1); in test mode, one check.
    func run() -> Int32 {
        var action = loop.start(now: monotonicSeconds())
        while true {
            action.logs.forEach(log.write)
            api.deadline = action.deadline
            switch action.step {
            case .sample:
                switch usage.sample() {
                case .success(let percent):
                    action = loop.sampled(percent: percent, now: monotonicSeconds())
                case .failure(let failure):
                    action = loop.sampleFailed(failure, now: monotonicSeconds())
                }
            case .readPod:
                do throws(APIFailure) {
                    let info = try api.getPod(namespace: namespace, name: settings.podName, label: settings.label)
                    action = loop.podRead(labelValue: info.labelValue, uid: info.uid, now: monotonicSeconds())
                } catch {
                    action = loop.podReadFailed(error, now: monotonicSeconds())
                }
            case .patchLabel(let value):
                do throws(APIFailure) {
                    let info = try api.patchLabel(namespace: namespace, name: settings.podName, label: settings.label,
                                                  value: value)
                    action = loop.patched(uid: info.uid, now: monotonicSeconds(), wall: .now())
                } catch {
                    action = loop.patchFailed(error, now: monotonicSeconds())
                }
            case .recordEvent(let event):
                do throws(APIFailure) {
                    try api.createEvent(namespace: namespace, event: event)
                    action = loop.eventRecorded(now: monotonicSeconds())
                } catch {
                    action = loop.eventFailed(error, now: monotonicSeconds())
                }
            case .waitUntil(let time):
                if let signal = signals.wait(until: time, now: monotonicSeconds) {
                    action = loop.signal(signal, now: monotonicSeconds())
                } else {
                    action = loop.tick(now: monotonicSeconds())
                }
            case .exit(let status):
                return status
            }
        }
    }
}

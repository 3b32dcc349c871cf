import HTTPLite

/// The driver of `WatchLoop`: starts and cancels the requests it asks for, waits in one
/// `poll` on the signalfd and both lanes' sockets, and reports back what happened, with
/// the time. It decides nothing: every rule is in `WatchLoop`.
final class Controller {
    private let api: KubeAPI
    private let usage: UsagePoller
    private let signals: SignalWatcher
    private let log: Log
    private var loop: WatchLoop

    init(loop: WatchLoop, api: KubeAPI, usage: UsagePoller, signals: SignalWatcher, log: Log) {
        self.loop = loop
        self.api = api
        self.usage = usage
        self.signals = signals
        self.log = log
    }

    /// Runs until a signal (exit 0) or a fatal error (exit 1); in test mode, one check.
    func run() -> Int32 {
        if let status = carryOut(loop.start(now: monotonicSeconds())) { return status }
        while true {
            let usageExchange = usage.exchange
            let apiExchange = api.exchange
            var interests = [PollInterest.readable(signals.descriptor)]
            // An exchange may need no poll: OpenSSL can hold bytes no socket announces.
            let usageIndex = usageExchange?.interest.map { interests.append($0); return interests.count - 1 }
            let apiIndex = apiExchange?.interest.map { interests.append($0); return interests.count - 1 }
            let wakeAt = [loop.nextWake, usageExchange?.wakeAt, apiExchange?.wakeAt].compactMap { $0 }.min()
            let ready = waitForAny(interests, until: wakeAt)
            var now = monotonicSeconds()
            if ready[0], let name = signals.take() {
                if let status = carryOut(loop.signal(name, now: now)) { return status }
                continue  // what was under way may be cancelled
            }
            if let exchange = usageExchange, usageIndex.map({ ready[$0] }) ?? true || now >= exchange.wakeAt,
               let result = usage.advance() {
                now = monotonicSeconds()
                let action: WatchLoop.Action
                switch result {
                case .success(let percent): action = loop.sampled(percent: percent, now: now)
                case .failure(let failure): action = loop.sampleFailed(failure, now: now)
                }
                if let status = carryOut(action) { return status }
            }
            if let exchange = apiExchange, api.exchange === exchange,
               apiIndex.map({ ready[$0] }) ?? true || now >= exchange.wakeAt,
               let outcome = api.advance(now: now) {
                if let status = carryOut(report(outcome, now: monotonicSeconds())) { return status }
            }
            now = monotonicSeconds()
            if let wake = loop.nextWake, now >= wake {
                if let status = carryOut(loop.tick(now: now)) { return status }
            }
        }
    }

    /// Logs, then takes the steps in order; a step that fails at once is reported at once.
    /// The exit status when a step is an exit.
    private func carryOut(_ action: WatchLoop.Action) -> Int32? {
        action.logs.forEach(log.write)
        for step in action.steps {
            var followUp: WatchLoop.Action?
            switch step {
            case .sample:
                if let failure = usage.start() { followUp = loop.sampleFailed(failure, now: monotonicSeconds()) }
            case .readPod:
                followUp = start(.readPod, stopDeadline: action.deadline)
            case .patchLabel(let value):
                followUp = start(.patchLabel(value), stopDeadline: action.deadline)
            case .recordEvent(let event):
                followUp = start(.createEvent(event), stopDeadline: action.deadline)
            case .cancelSample:
                usage.cancel()
            case .cancelRequest:
                api.cancel()
            case .exit(let status):
                return status
            }
            if let followUp, let status = carryOut(followUp) { return status }
        }
        return nil
    }

    private func start(_ request: APIRequest, stopDeadline: Double?) -> WatchLoop.Action? {
        let now = monotonicSeconds()
        return api.start(request, stopDeadline: stopDeadline, now: now).map { report($0, now: now) }
    }

    private func report(_ outcome: APIOutcome, now: Double) -> WatchLoop.Action {
        switch outcome {
        case .podRead(let pod): return loop.podRead(labelValue: pod.labelValue, uid: pod.uid, now: now)
        case .patched(let pod): return loop.patched(uid: pod.uid, now: now, wall: .now())
        case .eventCreated: return loop.eventRecorded(now: now)
        case .failed(.readPod, let failure): return loop.podReadFailed(failure, now: now)
        case .failed(.patchLabel, let failure): return loop.patchFailed(failure, now: now)
        case .failed(.createEvent, let failure): return loop.eventFailed(failure, now: now)
        }
    }
}

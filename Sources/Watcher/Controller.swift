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
            // An exchange under way always has an interest; a ready one or one past its
            // wakeAt is stepped, and one that finished while stepping has none.
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
               let action = stepSample(), let status = carryOut(action) {
                return status
            }
            if let exchange = apiExchange, api.exchange === exchange,
               apiIndex.map({ ready[$0] }) ?? true || now >= exchange.wakeAt,
               let action = stepRequest(), let status = carryOut(action) {
                return status
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
                if let failure = usage.start() {
                    followUp = loop.sampleFailed(failure, now: monotonicSeconds())
                } else {
                    followUp = stepSample()  // a kept-alive connection can send at once
                }
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
        if let outcome = api.start(request, stopDeadline: stopDeadline, now: now) { return report(outcome, now: now) }
        return stepRequest()
    }

    /// Goes on with the sample under way: the loop's answer once it has a result.
    private func stepSample() -> WatchLoop.Action? {
        guard let result = usage.advance() else { return nil }
        switch result {
        case .success(let percent): return loop.sampled(percent: percent, now: monotonicSeconds())
        case .failure(let failure): return loop.sampleFailed(failure, now: monotonicSeconds())
        }
    }

    /// Goes on with the API request under way: the loop's answer once it has an outcome.
    private func stepRequest() -> WatchLoop.Action? {
        guard let outcome = api.advance(now: monotonicSeconds()) else { return nil }
        return report(outcome, now: monotonicSeconds())
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

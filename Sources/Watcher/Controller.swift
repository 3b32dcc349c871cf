import HTTPLite

/// The driver of `WatchLoop`: starts and cancels the requests it asks for, waits in one
/// `poll` on the signalfd, both lanes' sockets and the health server's, and reports back
/// what happened, with the time. It decides nothing: every rule is in `WatchLoop`. What
/// happens is also counted on `board`, for `/metrics` and the probes.
final class Controller {
    private let api: KubeAPI
    private let usage: UsagePoller
    private let signals: SignalWatcher
    private let log: Log
    /// nil without `HTTP_PORT`: nothing is counted that nobody can read.
    private let board: StatusBoard?
    private let server: HTTPServer?
    private var loop: WatchLoop
    private var sampleStartedAt = 0.0

    init(loop: WatchLoop, api: KubeAPI, usage: UsagePoller, signals: SignalWatcher, log: Log,
         board: StatusBoard?, server: HTTPServer?) {
        self.loop = loop
        self.api = api
        self.usage = usage
        self.signals = signals
        self.log = log
        self.board = board
        self.server = server
    }

    /// Runs until a signal (exit 0) or a fatal error (exit 1); in test mode, one check.
    func run() -> Int32 {
        if let status = carryOut(loop.start(now: monotonicSeconds())) { return status }
        while true {
            let usageExchange = usage.exchange
            let apiExchange = api.exchange
            let served = server?.interests ?? []
            // An exchange under way always has an interest; a ready one or one past its
            // wakeAt is stepped, and one that finished while stepping has none.
            var interests = [PollInterest.readable(signals.descriptor)] + served
            let usageIndex = usageExchange?.interest.map { interests.append($0); return interests.count - 1 }
            let apiIndex = apiExchange?.interest.map { interests.append($0); return interests.count - 1 }
            let wakeAt = [loop.nextWake, usageExchange?.wakeAt, apiExchange?.wakeAt, server?.wakeAt]
                .compactMap { $0 }.min()
            let reported = waitForAny(interests, until: wakeAt)
            var now = monotonicSeconds()
            if let server {
                // First, and never waiting: a probe is answered from the board whatever else is under way.
                server.advance(ready: served.indices.map { PollInterest(descriptor: served[$0].descriptor,
                                                                         events: reported[$0 + 1]) }, now: now)
            }
            if reported[0] != 0, let name = signals.take() {
                if let status = carryOut(loop.signal(name, now: now)) { return status }
                continue  // what was under way may be cancelled
            }
            if let exchange = usageExchange, usageIndex.map({ reported[$0] != 0 }) ?? true || now >= exchange.wakeAt,
               let action = stepSample(), let status = carryOut(action) {
                return status
            }
            if let exchange = apiExchange, api.exchange === exchange,
               apiIndex.map({ reported[$0] != 0 }) ?? true || now >= exchange.wakeAt,
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
        board?.labelStatus = loop.labelStatus
        for step in action.steps {
            var followUp: WatchLoop.Action?
            switch step {
            case .sample:
                sampleStartedAt = monotonicSeconds()
                if let failure = usage.start() {
                    followUp = sampleEnded(.failure(failure))
                } else {
                    followUp = stepSample()  // a kept-alive connection can send at once
                }
            case .readPod:
                followUp = start(.readPod, stopDeadline: action.deadline)
            case .patchLabel(let value):
                followUp = start(.patchLabel(value), stopDeadline: action.deadline)
            case .recordEvent(let reason, let event):
                followUp = start(.createEvent(reason, event), stopDeadline: action.deadline)
            case .updateEvent(let reason, let name, let patch):
                followUp = start(.updateEvent(reason, name, patch), stopDeadline: action.deadline)
            case .cancelSample:
                usage.cancel()
            case .cancelRequest:
                api.cancel()
            case .exit(let status):
                server?.close()
                return status
            }
            if let followUp, let status = carryOut(followUp) { return status }
        }
        return nil
    }

    private func start(_ request: APIRequest, stopDeadline: Double?) -> WatchLoop.Action? {
        let now = monotonicSeconds()
        if let outcome = api.start(request, stopDeadline: stopDeadline, now: now) { return report(outcome) }
        return stepRequest()
    }

    /// Goes on with the sample under way: the loop's answer once it has a result.
    private func stepSample() -> WatchLoop.Action? {
        usage.advance().map(sampleEnded)
    }

    /// Goes on with the API request under way: the loop's answer once it has an outcome.
    private func stepRequest() -> WatchLoop.Action? {
        api.advance(now: monotonicSeconds()).map(report)
    }

    private func sampleEnded(_ result: Result<Double, UsageFailure>) -> WatchLoop.Action {
        let now = monotonicSeconds()
        board?.lastCheckAt = now
        board?.metrics.checkFinished(seconds: now - sampleStartedAt)
        switch result {
        case .success(let percent):
            board?.metrics.sampled(percent: percent, wallClock: WallClock.now().secondsSinceEpoch)
            return loop.sampled(percent: percent, now: now)
        case .failure(let failure):
            board?.metrics.sampleFailed(failure.kind)
            return loop.sampleFailed(failure, now: now)
        }
    }

    private func report(_ outcome: APIOutcome) -> WatchLoop.Action {
        let now = monotonicSeconds()
        switch outcome {
        case .podRead(let pod):
            board?.metrics.apiRequest(.get, status: api.lastStatus)
            board?.metrics.labelSeen(value: pod.labelValue)
            return loop.podRead(labelValue: pod.labelValue, uid: pod.uid, now: now)
        case .patched(let pod):
            board?.metrics.apiRequest(.patch, status: api.lastStatus)
            if let value = pod.labelValue { board?.metrics.labelWritten(value: value) }
            return loop.patched(uid: pod.uid, now: now, wall: .now())
        case .eventCreated(let reason):
            board?.metrics.apiRequest(.create, status: api.lastStatus)
            board?.metrics.eventRecorded(reason: reason)
            return loop.eventRecorded(now: now)
        case .eventUpdated(let reason):
            board?.metrics.apiRequest(.patch, status: api.lastStatus)
            board?.metrics.eventRecorded(reason: reason)
            return loop.eventRecorded(now: now)
        case .failed(.readPod, let failure):
            count(.get, failure)
            return loop.podReadFailed(failure, now: now)
        case .failed(.patchLabel, let failure):
            count(.patch, failure)
            return loop.patchFailed(failure, now: now)
        case .failed(.createEvent, let failure):
            count(.create, failure)
            return loop.eventFailed(failure, now: now)
        case .failed(.updateEvent, let failure):
            count(.patch, failure)
            return loop.eventFailed(failure, now: now)
        }
    }

    /// Counts a failed request that reached the wire: with its status, or as no answer.
    private func count(_ verb: Metrics.APIVerb, _ failure: APIFailure) {
        switch failure.kind {
        case .status(let code): board?.metrics.apiRequest(verb, status: code)
        case .transport: board?.metrics.apiRequest(verb, status: nil)
        case .credentials, .outOfTime: break
        }
    }
}

import JSON

/// The watcher's rules, with no I/O and no clock of its own: when to sample, read the
/// pod, patch the label, record an Event, back off, log, and stop. The driver
/// (`Controller`) reports what happened, with the time, and carries out the steps each
/// event returns; it decides nothing.
///
/// Work runs in two lanes that never wait on each other: the usage lane (one sample at
/// a time, every interval) and the API lane (one request at a time: a pod read, a patch
/// or an Event). A held API request does not delay sampling, and the write that goes out
/// when the lane frees up is always the latest decision. Between events the driver
/// waits for its requests, a signal, or `nextWake`, whichever comes first.
struct WatchLoop {
    /// What the loop asks the driver to start (or stop) now.
    enum Step: Equatable {
        /// Usage lane: read the Usage API, then report `sampled` or `sampleFailed`.
        case sample
        /// API lane: read the pod, then report `podRead` or `podReadFailed`.
        case readPod
        /// API lane: patch the label to the value, then report `patched` or `patchFailed`.
        case patchLabel(String)
        /// API lane: create the Event (its reason, and the object), then report
        /// `eventRecorded` or `eventFailed`.
        case recordEvent(Transition.Event.Reason, JSON)
        /// API lane: count one more occurrence on an existing Event (its reason, name, and
        /// the JSON merge patch), then report `eventRecorded` or `eventFailed`.
        case updateEvent(Transition.Event.Reason, String, JSON)
        /// Abandon the sample under way; no event is reported for it.
        case cancelSample
        /// Abandon the API request under way (closing its connection); no event is reported for it.
        case cancelRequest
        case exit(Int32)
    }

    /// The steps to take in order, the lines to log first, and the deadline (monotonic
    /// seconds) an API request started by these steps must keep (set while stopping).
    struct Action {
        var logs: [LogLine] = []
        var steps: [Step] = []
        var deadline: Double?
    }

    /// The settings the rules use.
    struct Rules {
        var interval: Double
        var resyncInterval: Double
        var startupTimeout: Double
        var testMode: Bool
        var threshold: Double
        var onUsageFailure: String
        /// Seconds from the signal within which the label is set and the Event recorded: the
        /// promise is an exit within 2 seconds, and starting and exiting take some of it.
        var stopBudget = 1.5
        /// Seconds of the stop's budget given to a label write already under way at the
        /// signal to be answered, before it is cancelled: see `signal`.
        var writeAtSignalWait = 0.5
    }

    private enum Phase {
        /// Reading the pod for the first time until `giveUpAt`; after a failure the next
        /// try waits until `retryAt`.
        case starting(giveUpAt: Double, startedAt: Double, backoff: Backoff, retryAt: Double?)
        case running
        /// Setting `no` (then recording Events) before `retries.deadline`; after a
        /// failure, the next try waits until `resumeAt`.
        case stopping(retries: StopRetries, labelSet: Bool, resumeAt: Double?)
        case finished
    }

    /// The API lane's request under way.
    private enum Request {
        case read
        case patch(Transition)
        case event
    }

    let rules: Rules
    private let explain: FailureExplainer
    private var phase: Phase = .finished
    private var state: LabelController
    private var pod: PodReference
    private var sampling = false
    private var podWasRead = false
    private var request: Request?
    /// While stopping: the label write that was under way at the signal, still unanswered,
    /// is cancelled at this time (monotonic seconds).
    private var writeAtSignalUntil: Double?
    /// Whether a sample has come back (good or failed): no write goes out before, so that
    /// a pod without the label is not given `yes` just before the first sample says `no`.
    private var sampledOnce = false
    /// In test mode: whether the one check failed.
    private var checkFailed = false
    private var nextCheck = 0.0
    private var nextResync = 0.0
    private var writeBackoff = Backoff()
    private var writeNotBefore = 0.0
    /// Event writes not yet accepted by the API server, oldest first; a few are kept across failures.
    private var pendingEvents: [(reason: Transition.Event.Reason, write: EventCorrelator.Write)] = []
    /// How each Event is written (a new object, a count on an existing one) or dropped.
    private var correlator = EventCorrelator()
    /// Event writes kept while the API server does not take them (one per Event, see `queue`).
    static let maxPendingEvents = 32
    private var eventBackoff = Backoff()
    private var eventNotBefore = 0.0
    /// The last good sample, for the log line of a transition.
    private var lastPercent: Double?
    /// Failures that repeat every check or resync are logged once, then once a minute.
    private var usageWarning = RepeatedWarning()
    private var resyncWarning = RepeatedWarning()
    /// Spreads the retries of many pods apart: a number in 0..<1.
    private var random: () -> Double

    init(rules: Rules, decisions: LabelController, pod: PodReference, explain: FailureExplainer,
         random: @escaping () -> Double) {
        self.rules = rules
        self.state = decisions
        self.pod = pod
        self.explain = explain
        self.random = random
    }

    /// The label's value at the API server as last seen or written.
    var labelAtServer: String? { state.labelAtServer }

    /// What `/readyz` tells: whether the pod was read, the label value the loop wants (the
    /// decision, or before the first sample the value it keeps or ensures), and the value
    /// at the API server.
    var labelStatus: (podRead: Bool, wanted: String?, atServer: String?) {
        (podWasRead, state.decision?.labelValue ?? state.pendingWrite?.labelValue ?? state.labelAtServer,
         state.labelAtServer)
    }

    /// When to report `tick` if nothing else happens first; nil waits for the requests under way.
    var nextWake: Double? {
        switch phase {
        case .starting(_, _, _, let retryAt):
            return request == nil ? retryAt : nil
        case .running:
            let usage = sampling || (rules.testMode && sampledOnce) ? nil : nextCheck
            let api = request == nil ? apiWork.map { $0.at }.min() : nil
            return [usage, api].compactMap { $0 }.min()
        case .stopping(let retries, _, let resumeAt):
            // The budget bounds every wait, whatever a request or a plugin does.
            return min(resumeAt ?? retries.deadline, writeAtSignalUntil ?? retries.deadline, retries.deadline)
        case .finished:
            return nil
        }
    }

    // MARK: Start

    /// The first step: read the pod.
    mutating func start(now: Double) -> Action {
        phase = .starting(giveUpAt: now + rules.startupTimeout, startedAt: now, backoff: Backoff(base: 0.5, cap: 5),
                          retryAt: nil)
        request = .read
        return Action(steps: [.readPod])
    }

    /// The pod was read: its label's value (nil when it has none) and uid.
    mutating func podRead(labelValue: String?, uid: String, now: Double) -> Action {
        request = nil
        var logs: [LogLine] = []
        pod = PodReference(namespace: pod.namespace, name: pod.name, uid: uid)
        nextResync = now + rules.resyncInterval
        switch phase {
        case .starting:
            podWasRead = true
            state.podRead(labelValue: labelValue)
            logs.append(LogLine(.info, "watching pod", ["pod": "\(pod.namespace)/\(pod.name)",
                                                        "label": labelValue ?? "(none)"]))
            phase = .running
            nextCheck = now
        case .running:
            if labelValue != state.labelAtServer {
                logs.append(LogLine(.warning, "the label was changed outside the watcher", ["found": labelValue ?? "(none)"]))
            }
            state.podRead(labelValue: labelValue)
            // The API server answers again: a write waiting out a backoff from an outage goes now.
            writeBackoff.reset()
            writeNotBefore = 0
            if case .logRecovered(let failures, let failedFor) = resyncWarning.succeeded(now: now) {
                logs.append(recovered("the pod can be read again", failures, failedFor))
            }
        case .stopping, .finished:
            preconditionFailure("a pod read during the stop, whose requests were cancelled")
        }
        return schedule(now: now, logs: logs)
    }

    mutating func podReadFailed(_ failure: APIFailure, now: Double) -> Action {
        request = nil
        switch phase {
        case .starting(let giveUpAt, let startedAt, var backoff, _):
            guard failure.isRetryable, failure.status != 409 else {
                phase = .finished
                return Action(logs: [LogLine(.error, explain.message(failure, verb: "get", resource: "pods"),
                                             ["error": failure.description], hint: explain.hint(failure, verb: "get"))],
                              steps: [.exit(1)])
            }
            guard now < giveUpAt else {
                phase = .finished
                return Action(logs: [LogLine(.error, "the API server could not be reached",
                                             ["error": failure.description, "waited": formatSeconds(now - startedAt)])],
                              steps: [.exit(1)])
            }
            // The last wait is cut short so that one more try falls on the deadline.
            let delay = min(backoff.nextDelay(retryAfter: failure.retryAfter, random: random()), giveUpAt - now)
            phase = .starting(giveUpAt: giveUpAt, startedAt: startedAt, backoff: backoff, retryAt: now + delay)
            return Action(logs: [LogLine(.warning, "the API server is not reachable yet; retrying",
                                         ["error": failure.description, "retry_in": formatSeconds(delay)])])
        case .running:
            checkFailed = true
            var logs: [LogLine] = []
            switch resyncWarning.failed(now: now) {
            case .logFirst:
                logs.append(LogLine(.warning, "re-reading the pod failed", ["error": failure.description]))
            case .logSummary(let failures, let unlogged, let failingFor):
                logs.append(summary("re-reading the pod still fails", failures, unlogged, failingFor, failure.description, hint: nil))
            case .stayQuiet:
                break
            }
            nextResync = now + min(rules.resyncInterval, 5)
            return schedule(now: now, logs: logs)
        case .stopping, .finished:
            preconditionFailure("a pod read during the stop, whose requests were cancelled")
        }
    }

    // MARK: Samples, writes and Events

    /// `nextWake` came.
    mutating func tick(now: Double) -> Action {
        switch phase {
        case .starting(let giveUpAt, let startedAt, let backoff, let retryAt):
            guard request == nil, let retryAt, now >= retryAt else { return Action() }
            phase = .starting(giveUpAt: giveUpAt, startedAt: startedAt, backoff: backoff, retryAt: nil)
            request = .read
            return Action(steps: [.readPod])
        case .running:
            return schedule(now: now, logs: [])
        case .stopping(let retries, let labelSet, _):
            if let until = writeAtSignalUntil, now >= until, now < retries.deadline {
                writeAtSignalUntil = nil
                request = nil
                var action = resumeStop(now: now)
                action.steps.insert(.cancelRequest, at: 0)
                return action
            }
            guard now >= retries.deadline else { return resumeStop(now: now) }
            var logs: [LogLine] = []
            if !labelSet {
                logs.append(LogLine(.error, "could not set the label before stopping", ["error": "no answer within the stop's budget"]))
            }
            var action = finishStop(logs: logs)
            if request != nil { action.steps.insert(.cancelRequest, at: 0) }
            request = nil
            return action
        case .finished:
            preconditionFailure("a tick after the exit")
        }
    }

    mutating func sampled(percent: Double, now: Double) -> Action {
        sampleEnded(now: now)
        var logs = [LogLine(.debug, "sample", ["percent": formatPercent(percent), "threshold": formatPercent(rules.threshold),
                                               "accept_below": formatPercent(state.acceptBelow)])]
        if case .logRecovered(let failures, let failedFor) = usageWarning.succeeded(now: now) {
            logs.append(recovered("the Usage API answers again", failures, failedFor))
        }
        state.sampled(percent: percent)
        lastPercent = percent
        return schedule(now: now, logs: logs)
    }

    mutating func sampleFailed(_ failure: UsageFailure, now: Double) -> Action {
        sampleEnded(now: now)
        checkFailed = true
        state.sampleFailed(failure.description)
        var logs = [LogLine(.debug, "sample failed", ["error": failure.description,
                                                      "failures_in_row": "\(state.consecutiveFailures)"])]
        switch usageWarning.failed(now: now) {
        case .logFirst:
            logs.append(LogLine(.warning, "the Usage API failed; keeping the last decision", [
                "error": failure.description, "failures_in_row": "\(state.consecutiveFailures)",
                "policy": rules.onUsageFailure], hint: failure.hint))
        case .logSummary(let failures, let unlogged, let failingFor):
            logs.append(summary("the Usage API is still failing", failures, unlogged, failingFor, failure.description,
                                hint: failure.hint))
        case .stayQuiet:
            break
        }
        return schedule(now: now, logs: logs)
    }

    mutating func patched(uid: String, now: Double, wall: WallClock) -> Action {
        guard case .patch(let transition) = request else { preconditionFailure("a patch nobody asked for") }
        request = nil
        let logs = written(transition, uid: uid, now: now, wall: wall)
        switch phase {
        case .running:
            writeBackoff.reset()
            return schedule(now: now, logs: logs)
        case .stopping(let retries, let labelSet, _):
            // The write under way at the signal is not the stop's: that one goes out next.
            let wasStopsWrite = writeAtSignalUntil == nil
            writeAtSignalUntil = nil
            phase = .stopping(retries: retries, labelSet: labelSet || wasStopsWrite, resumeAt: nil)
            eventNotBefore = 0
            var action = resumeStop(now: now)
            action.logs = logs + action.logs
            return action
        case .starting, .finished:
            preconditionFailure("a patch outside the running loop or the stop")
        }
    }

    mutating func patchFailed(_ failure: APIFailure, now: Double) -> Action {
        guard case .patch(let transition) = request else { preconditionFailure("a patch nobody asked for") }
        request = nil
        switch phase {
        case .running:
            checkFailed = true
            let delay = writeBackoff.nextDelay(retryAfter: failure.retryAfter, random: random())
            writeNotBefore = now + delay
            if failure.status == 409 { nextResync = now }  // someone else wrote: read before writing again
            let fields: KeyValuePairs<String, String> = ["label": transition.labelValue, "error": failure.description,
                                                         "retry_in": formatSeconds(delay)]
            let line = failure.isRetryable
                ? LogLine(.warning, "setting the label failed; will retry", fields)
                : LogLine(.error, explain.message(failure, verb: "patch", resource: "pods"), fields,
                          hint: explain.hint(failure, verb: "patch"))
            return schedule(now: now, logs: [line])
        case .stopping(var retries, _, _):
            if writeAtSignalUntil != nil {
                // The write under way at the signal failed; the stop's own goes out now.
                writeAtSignalUntil = nil
                var action = resumeStop(now: now)
                action.logs.insert(LogLine(.debug, "the write under way at the signal failed", [
                    "label": transition.labelValue, "error": failure.description]), at: 0)
                return action
            }
            guard let delay = retries.delay(after: failure, now: now, random: random()) else {
                return finishStop(logs: [LogLine(.error, "could not set the label before stopping",
                                                 ["error": failure.description])])
            }
            phase = .stopping(retries: retries, labelSet: false, resumeAt: now + delay)
            return Action(logs: [LogLine(.warning, "setting the label failed; retrying before stopping",
                                         ["error": failure.description, "retry_in": formatSeconds(delay)])])
        case .starting, .finished:
            preconditionFailure("a patch outside the running loop or the stop")
        }
    }

    mutating func eventRecorded(now: Double) -> Action {
        request = nil
        pendingEvents.removeFirst()
        eventBackoff.reset()
        return afterEvent(now: now, logs: [])
    }

    mutating func eventFailed(_ failure: APIFailure, now: Double) -> Action {
        request = nil
        if case .patch(_, _, let recreate, let fresh) = pendingEvents[0].write,
           failure.status == 404 || failure.status == 403 {
            // client-go's recordEvent: an Event gone (expired, deleted) is created again whole.
            // A Role without `patch` on events: this one and every later one is a new object.
            var logs: [LogLine] = []
            if failure.status == 403 {
                if !correlator.patchesForbidden {
                    logs.append(LogLine(.warning, "patching Events is forbidden; recording each Event as a new object",
                                        ["error": failure.description],
                                        hint: "grant the verb patch on events to count repeated Events"))
                }
                correlator.forbidPatches()
            }
            pendingEvents[0].write = .create(failure.status == 404 ? recreate : fresh)
            return afterEvent(now: now, logs: logs)
        }
        if failure.status == 409 {
            // The name is taken: an earlier try was recorded after all (one cut short by the
            // stop, or given up on a silent connection), and nothing was refused.
            return eventRecorded(now: now)
        }
        if !failure.isRetryable {
            // An invalid Event never will be recorded.
            let verb = if case .patch = pendingEvents.removeFirst().write { "patch" } else { "create" }
            return afterEvent(now: now, logs: [LogLine(.error, explain.message(failure, verb: verb, resource: "events"),
                                                       ["error": failure.description],
                                                       hint: explain.hint(failure, verb: verb))])
        }
        switch phase {
        case .running:
            let delay = eventBackoff.nextDelay(retryAfter: failure.retryAfter, random: random())
            eventNotBefore = now + delay
            return schedule(now: now, logs: [LogLine(.warning, "recording an Event failed; will retry",
                                                     ["error": failure.description, "retry_in": formatSeconds(delay)])])
        case .stopping(var retries, let labelSet, _):
            guard let delay = retries.delay(after: failure, now: now, random: random()) else { return finishStop(logs: []) }
            phase = .stopping(retries: retries, labelSet: labelSet, resumeAt: now + delay)
            return Action()
        case .starting, .finished:
            preconditionFailure("an Event outside the running loop or the stop")
        }
    }

    // MARK: Stop

    /// SIGTERM or SIGINT: set `no` and record the Terminating Event within the budget, then
    /// exit 0. The patch is sent even when the label reads `no` already: what was last seen
    /// may be stale, and a merge patch of a fixed value changes nothing when it is not.
    /// A sample or a read under way is cancelled. A label write under way is given
    /// `writeAtSignalWait` to be answered first: cancelled, it may still be applied by the
    /// API server after the stop's `no` (a closed connection does not recall a request), so
    /// the stop's patch waits for its answer, and goes out on a new connection when the old
    /// one hangs.
    mutating func signal(_ name: String, now: Double) -> Action {
        switch phase {
        case .stopping(var retries, let labelSet, let resumeAt):
            if retries.signalled() {
                var action = finishStop(logs: [LogLine(.info, "stopping at once", ["signal": name])] + (labelSet ? [] : [
                    LogLine(.error, "could not set the label before stopping", ["error": "stopped by a third signal"])]))
                if request != nil { action.steps.insert(.cancelRequest, at: 0) }
                request = nil
                return action
            }
            phase = .stopping(retries: retries, labelSet: labelSet, resumeAt: resumeAt)
            return Action()
        case .starting, .running:
            var cancelled: [Step] = []
            if sampling { cancelled.append(.cancelSample) }
            if case .patch = request {
                writeAtSignalUntil = now + rules.writeAtSignalWait
            } else if request != nil {
                cancelled.append(.cancelRequest)
                request = nil
            }
            sampling = false
            state.stopping(signal: name)
            phase = .stopping(retries: StopRetries(deadline: now + rules.stopBudget), labelSet: false, resumeAt: nil)
            var action = resumeStop(now: now)
            action.logs.insert(LogLine(.info, "stopping: rejecting new connections", ["signal": name]), at: 0)
            action.steps = cancelled + action.steps
            return action
        case .finished:
            preconditionFailure("a signal after the exit")
        }
    }

    private mutating func resumeStop(now: Double) -> Action {
        guard case .stopping(let retries, let labelSet, let resumeAt) = phase else {
            preconditionFailure("resuming a stop that did not begin")
        }
        if request != nil { return Action() }
        if let resumeAt, now < resumeAt { return Action() }
        phase = .stopping(retries: retries, labelSet: labelSet, resumeAt: nil)
        if !labelSet {
            request = .patch(Transition(accepting: false, event: state.decision?.event))
            return Action(steps: [.patchLabel("no")], deadline: retries.deadline)
        }
        if !pendingEvents.isEmpty, now + StopRetries.leastTry <= retries.deadline {
            request = .event
            return Action(steps: [eventStep], deadline: retries.deadline)
        }
        return finishStop(logs: [])
    }

    private mutating func finishStop(logs: [LogLine]) -> Action {
        phase = .finished
        return Action(logs: logs + [LogLine(.info, "stopped")], steps: [.exit(0)])
    }

    // MARK: Scheduling

    /// Starts what is due in each free lane; in test mode, exits once the one check is done.
    private mutating func schedule(now: Double, logs: [LogLine]) -> Action {
        guard case .running = phase else { preconditionFailure("scheduling outside the running loop") }
        var action = Action(logs: logs)
        if !sampling && !(rules.testMode && sampledOnce) && now >= nextCheck {
            sampling = true
            action.steps.append(.sample)
        }
        if request == nil, let work = apiWork.first(where: { $0.at <= now }) {
            request = work.request
            switch work.request {
            case .read: action.steps.append(.readPod)
            case .patch(let transition): action.steps.append(.patchLabel(transition.labelValue))
            case .event: action.steps.append(eventStep)
            }
        }
        if rules.testMode && sampledOnce && !sampling && request == nil {
            // The one check cannot write while backing off: it failed.
            let failed = checkFailed || state.pendingWrite != nil
            phase = .finished
            action.steps.append(.exit(failed ? 1 : 0))
        }
        return action
    }

    /// The API lane's work in order of priority, each with the time it is due: a re-read,
    /// then the write of the latest decision, then the oldest Event.
    private var apiWork: [(request: Request, at: Double)] {
        var work: [(request: Request, at: Double)] = [(.read, nextResync)]
        if sampledOnce, let transition = state.pendingWrite {
            work.append((.patch(transition), writeNotBefore))
        }
        if !pendingEvents.isEmpty {
            work.append((.event, eventNotBefore))
        }
        return work
    }

    /// The step that writes the oldest pending Event.
    private var eventStep: Step {
        switch pendingEvents[0].write {
        case .create(let object): return .recordEvent(pendingEvents[0].reason, object)
        case .patch(let name, let patch, _, _): return .updateEvent(pendingEvents[0].reason, name, patch)
        }
    }

    private mutating func sampleEnded(now: Double) {
        guard case .running = phase, sampling else { preconditionFailure("a sample nobody asked for") }
        sampling = false
        sampledOnce = true
        // A slow sample skips ticks rather than bursting.
        nextCheck = max(nextCheck + rules.interval, now)
    }

    private mutating func afterEvent(now: Double, logs: [LogLine]) -> Action {
        switch phase {
        case .running:
            return schedule(now: now, logs: logs)
        case .stopping:
            var action = resumeStop(now: now)
            action.logs = logs + action.logs
            return action
        case .starting, .finished:
            preconditionFailure("an Event outside the running loop or the stop")
        }
    }

    /// The label was written: remember it, log it, and queue its Event as the correlator
    /// decides (a new object, one more on an existing one's count, or nothing).
    private mutating func written(_ transition: Transition, uid: String, now: Double, wall: WallClock) -> [LogLine] {
        state.written(transition)
        if !uid.isEmpty { pod = PodReference(namespace: pod.namespace, name: pod.name, uid: uid) }
        guard let event = transition.event else {
            return [LogLine(.info, "label set", ["label": transition.labelValue])]
        }
        let record: EventRecord
        let recorded: String
        switch correlator.correlate(event, about: pod, now: now, wall: wall) {
        case .write(let write, let written):
            queue(write, event.reason)
            record = written
            recorded = written.name
        case .drop(let dropped):
            record = dropped
            recorded = "dropped"
        }
        return [LogLine(.info, "label set", [
            "label": transition.labelValue, "reason": event.reason.rawValue,
            "percent": lastPercent.map(formatPercent) ?? "unknown",
            "threshold": formatPercent(rules.threshold), "accept_below": formatPercent(state.acceptBelow),
            "message": event.message, "event": recorded, "event_count": "\(record.count)"])]
    }

    /// Queues an Event write. A count update replaces what is still queued for the same
    /// Event (the count is absolute, so the latest says it all): a queued patch, or a queued
    /// create, which then creates the Event with the latest count. The write under way is left
    /// alone. So the queue holds one write per Event, however fast the label flaps while the
    /// lane is busy writing it, and no occurrence is lost from the counts; at most
    /// `maxPendingEvents` are kept through an outage, the oldest dropped first.
    private mutating func queue(_ write: EventCorrelator.Write, _ reason: Transition.Event.Reason) {
        let first = request.map { if case .event = $0 { 1 } else { 0 } } ?? 0
        if case .patch(let name, _, let recreate, _) = write,
           let index = pendingEvents.indices.dropFirst(first).first(where: { pendingEvents[$0].write.eventName == name }) {
            if case .create = pendingEvents[index].write {
                pendingEvents[index].write = .create(recreate)
            } else {
                pendingEvents[index].write = write
            }
            return
        }
        pendingEvents.append((reason, write))
        if pendingEvents.count > Self.maxPendingEvents { pendingEvents.remove(at: first) }
    }

    private func recovered(_ message: String, _ failures: Int, _ failedFor: Double) -> LogLine {
        LogLine(.info, message, ["failures": "\(failures)", "failed_for": formatSeconds(failedFor)])
    }

    private func summary(_ message: String, _ failures: Int, _ unlogged: Int, _ failingFor: Double,
                         _ error: String, hint: String?) -> LogLine {
        LogLine(.warning, message, ["failures_in_row": "\(failures)", "since_last_line": "\(unlogged)",
                                    "failing_for": formatSeconds(failingFor), "error": error], hint: hint)
    }
}

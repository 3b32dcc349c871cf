import JSON

/// The watcher's rules, with no I/O and no clock of its own: when to sample, read the
/// pod, patch the label, record an Event, back off, log, and stop. The driver
/// (`Controller`) reports what happened, with the time, and carries out the `Action`
/// each event returns; it decides nothing.
///
/// Every event returns exactly one next step, since the driver does one thing at a
/// time; a signal reaches the loop through `signal(_:now:)` whenever the driver waits.
struct WatchLoop {
    /// What the loop asks the driver to do next.
    enum Step: Equatable {
        case sample
        case readPod
        case patchLabel(String)
        case recordEvent(JSON)
        /// Wait for the time (monotonic seconds) or a signal, then report `tick` or `signal`.
        case waitUntil(Double)
        case exit(Int32)
    }

    /// The next step, the lines to log first, and the deadline the step's request must
    /// keep (set while stopping).
    struct Action {
        var logs: [LogLine] = []
        var step: Step
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
    }

    private enum Phase {
        /// Reading the pod for the first time, retrying until `giveUpAt`.
        case starting(giveUpAt: Double, startedAt: Double, backoff: Backoff)
        /// Inside one check; `resynced` and `wrote` say which steps it has taken.
        case checking(resynced: Bool, wrote: Bool, failed: Bool)
        /// Between checks.
        case idle
        /// Setting `no` (then recording Events) before `retries.deadline`; after a
        /// failure, the next try waits until `resumeAt`.
        case stopping(retries: StopRetries, labelSet: Bool, resumeAt: Double?)
        case finished
    }

    let rules: Rules
    private let explain: FailureExplainer
    private var phase: Phase = .finished
    private var state: LabelController
    private var pod: PodReference
    private var nextCheck = 0.0
    private var nextResync = 0.0
    private var writeBackoff = Backoff()
    private var writeNotBefore = 0.0
    /// Events not yet accepted by the API server, oldest first; a few are kept across failures.
    private var pendingEvents: [JSON] = []
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

    // MARK: Start

    /// The first step: read the pod.
    mutating func start(now: Double) -> Action {
        phase = .starting(giveUpAt: now + rules.startupTimeout, startedAt: now, backoff: Backoff(base: 0.5, cap: 5))
        return Action(step: .readPod)
    }

    /// The pod was read: its label's value (nil when it has none) and uid.
    mutating func podRead(labelValue: String?, uid: String, now: Double) -> Action {
        var logs: [LogLine] = []
        pod = PodReference(namespace: pod.namespace, name: pod.name, uid: uid)
        nextResync = now + rules.resyncInterval
        switch phase {
        case .starting:
            state.podRead(labelValue: labelValue)
            logs.append(LogLine(.info, "watching pod", ["pod": "\(pod.namespace)/\(pod.name)",
                                                        "label": labelValue ?? "(none)"]))
            nextCheck = now
            return beginCheck(now: now, logs: logs)
        case .checking(_, let wrote, let failed):
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
            phase = .checking(resynced: true, wrote: wrote, failed: failed)
            return continueCheck(now: now, logs: logs)
        case .idle, .stopping, .finished:
            preconditionFailure("a pod read outside a start or a check")
        }
    }

    mutating func podReadFailed(_ failure: APIFailure, now: Double) -> Action {
        switch phase {
        case .starting(let giveUpAt, let startedAt, var backoff):
            if failure.wasInterrupted { return Action(step: .waitUntil(now)) }  // the signal is waiting
            guard failure.isRetryable, failure.status != 409 else {
                phase = .finished
                return Action(logs: [LogLine(.error, explain.message(failure, verb: "get", resource: "pods"),
                                             ["error": failure.description], hint: explain.hint(failure, verb: "get"))],
                              step: .exit(1))
            }
            guard now < giveUpAt else {
                phase = .finished
                return Action(logs: [LogLine(.error, "the API server could not be reached",
                                             ["error": failure.description, "waited": formatSeconds(now - startedAt)])],
                              step: .exit(1))
            }
            // The last wait is cut short so that one more try falls on the deadline.
            let delay = min(backoff.nextDelay(retryAfter: failure.retryAfter, random: random()), giveUpAt - now)
            phase = .starting(giveUpAt: giveUpAt, startedAt: startedAt, backoff: backoff)
            return Action(logs: [LogLine(.warning, "the API server is not reachable yet; retrying",
                                         ["error": failure.description, "retry_in": formatSeconds(delay)])],
                          step: .waitUntil(now + delay))
        case .checking(_, let wrote, _):
            phase = .checking(resynced: true, wrote: wrote, failed: true)
            if failure.wasInterrupted { return endCheck(now: now, logs: []) }
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
            return continueCheck(now: now, logs: logs)
        case .idle, .stopping, .finished:
            preconditionFailure("a pod read outside a start or a check")
        }
    }

    // MARK: Checks

    /// A wait ended at its time.
    mutating func tick(now: Double) -> Action {
        switch phase {
        case .starting:
            return Action(step: .readPod)
        case .idle:
            return now >= nextCheck ? beginCheck(now: now, logs: []) : Action(step: .waitUntil(nextCheck))
        case .checking:
            return continueCheck(now: now, logs: [])
        case .stopping:
            return resumeStop(now: now)
        case .finished:
            preconditionFailure("a tick after the exit")
        }
    }

    mutating func sampled(percent: Double, now: Double) -> Action {
        var logs = [LogLine(.debug, "sample", ["percent": formatPercent(percent), "threshold": formatPercent(rules.threshold)])]
        if case .logRecovered(let failures, let failedFor) = usageWarning.succeeded(now: now) {
            logs.append(recovered("the Usage API answers again", failures, failedFor))
        }
        state.sampled(percent: percent)
        lastPercent = percent
        return continueCheck(now: now, logs: logs)
    }

    mutating func sampleFailed(_ failure: UsageFailure, now: Double) -> Action {
        // A signal cut the sample short: not the Usage API's fault, and not counted.
        if failure.interrupted { return endCheck(now: now, logs: []) }
        if case .checking(let resynced, let wrote, _) = phase {
            phase = .checking(resynced: resynced, wrote: wrote, failed: true)
        }
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
        return continueCheck(now: now, logs: logs)
    }

    mutating func patched(uid: String, now: Double, wall: WallClock) -> Action {
        let logs = written(uid: uid, wall: wall)
        switch phase {
        case .checking(let resynced, _, let failed):
            writeBackoff.reset()
            phase = .checking(resynced: resynced, wrote: true, failed: failed)
            return continueCheck(now: now, logs: logs)
        case .stopping(let retries, _, _):
            phase = .stopping(retries: retries, labelSet: true, resumeAt: nil)
            eventNotBefore = 0
            var action = resumeStop(now: now)
            action.logs = logs + action.logs
            return action
        case .starting, .idle, .finished:
            preconditionFailure("a patch outside a check or the stop")
        }
    }

    mutating func patchFailed(_ failure: APIFailure, now: Double) -> Action {
        switch phase {
        case .checking(let resynced, _, _):
            phase = .checking(resynced: resynced, wrote: true, failed: true)
            if failure.wasInterrupted { return endCheck(now: now, logs: []) }
            let delay = writeBackoff.nextDelay(retryAfter: failure.retryAfter, random: random())
            writeNotBefore = now + delay
            if failure.status == 409 { nextResync = now }  // someone else wrote: read before writing again
            let fields: KeyValuePairs<String, String> = ["label": state.pendingWrite?.labelValue ?? "", "error": failure.description,
                                                         "retry_in": formatSeconds(delay)]
            let line = failure.isRetryable
                ? LogLine(.warning, "setting the label failed; will retry", fields)
                : LogLine(.error, explain.message(failure, verb: "patch", resource: "pods"), fields,
                          hint: explain.hint(failure, verb: "patch"))
            return continueCheck(now: now, logs: [line])
        case .stopping(var retries, _, _):
            guard let delay = retries.delay(after: failure, now: now, random: random()) else {
                return finishStop(logs: [LogLine(.error, "could not set the label before stopping",
                                                 ["error": failure.description])])
            }
            phase = .stopping(retries: retries, labelSet: false, resumeAt: now + delay)
            let logs = failure.wasInterrupted ? [] : [LogLine(.warning, "setting the label failed; retrying before stopping",
                                                              ["error": failure.description, "retry_in": formatSeconds(delay)])]
            return Action(logs: logs, step: .waitUntil(now + delay))
        case .starting, .idle, .finished:
            preconditionFailure("a patch outside a check or the stop")
        }
    }

    mutating func eventRecorded(now: Double) -> Action {
        pendingEvents.removeFirst()
        eventBackoff.reset()
        return afterEvent(now: now, logs: [])
    }

    mutating func eventFailed(_ failure: APIFailure, now: Double) -> Action {
        if !failure.wasInterrupted && (failure.status == 409 || !failure.isRetryable) {
            // A duplicate name means it was recorded; an invalid Event never will be.
            pendingEvents.removeFirst()
            return afterEvent(now: now, logs: [LogLine(.error, explain.message(failure, verb: "create", resource: "events"),
                                                       ["error": failure.description],
                                                       hint: explain.hint(failure, verb: "create"))])
        }
        switch phase {
        case .checking:
            // Kept for later; an interrupted one too: the API server refused nothing.
            if failure.wasInterrupted { return endCheck(now: now, logs: []) }
            let delay = eventBackoff.nextDelay(retryAfter: failure.retryAfter, random: random())
            eventNotBefore = now + delay
            return endCheck(now: now, logs: [LogLine(.warning, "recording an Event failed; will retry",
                                                     ["error": failure.description, "retry_in": formatSeconds(delay)])])
        case .stopping(var retries, let labelSet, _):
            guard let delay = retries.delay(after: failure, now: now, random: random()) else { return finishStop(logs: []) }
            phase = .stopping(retries: retries, labelSet: labelSet, resumeAt: now + delay)
            return Action(step: .waitUntil(now + delay))
        case .starting, .idle, .finished:
            preconditionFailure("an Event outside a check or the stop")
        }
    }

    // MARK: Stop

    /// SIGTERM or SIGINT: set `no` and record the Terminating Event within the budget, then
    /// exit 0. The patch is sent even when the label reads `no` already: what was last seen
    /// may be stale, and a merge patch of a fixed value changes nothing when it is not.
    mutating func signal(_ name: String, now: Double) -> Action {
        switch phase {
        case .stopping(var retries, let labelSet, let resumeAt):
            if retries.signalled() {
                return finishStop(logs: [LogLine(.info, "stopping at once", ["signal": name])] + (labelSet ? [] : [
                    LogLine(.error, "could not set the label before stopping", ["error": "stopped by a third signal"])]))
            }
            phase = .stopping(retries: retries, labelSet: labelSet, resumeAt: resumeAt)
            return resumeStop(now: now)
        case .starting, .checking, .idle:
            state.stopping(signal: name)
            phase = .stopping(retries: StopRetries(deadline: now + rules.stopBudget), labelSet: false, resumeAt: nil)
            var action = resumeStop(now: now)
            action.logs.insert(LogLine(.info, "stopping: rejecting new connections", ["signal": name]), at: 0)
            return action
        case .finished:
            preconditionFailure("a signal after the exit")
        }
    }

    private mutating func resumeStop(now: Double) -> Action {
        guard case .stopping(let retries, let labelSet, let resumeAt) = phase else {
            preconditionFailure("resuming a stop that did not begin")
        }
        if let resumeAt, now < resumeAt {
            return Action(step: .waitUntil(resumeAt), deadline: retries.deadline)
        }
        phase = .stopping(retries: retries, labelSet: labelSet, resumeAt: nil)
        if !labelSet {
            return Action(step: .patchLabel("no"), deadline: retries.deadline)
        }
        if let event = pendingEvents.first, now + StopRetries.leastTry <= retries.deadline {
            return Action(step: .recordEvent(event), deadline: retries.deadline)
        }
        return finishStop(logs: [])
    }

    private mutating func finishStop(logs: [LogLine]) -> Action {
        phase = .finished
        return Action(logs: logs + [LogLine(.info, "stopped")], step: .exit(0))
    }

    // MARK: The steps of a check

    private mutating func beginCheck(now: Double, logs: [LogLine]) -> Action {
        phase = .checking(resynced: false, wrote: false, failed: false)
        return Action(logs: logs, step: .sample)
    }

    /// After the sample: re-read the pod when due, then write when due, then send Events.
    private mutating func continueCheck(now: Double, logs: [LogLine]) -> Action {
        guard case .checking(let resynced, let wrote, _) = phase else { preconditionFailure("no check under way") }
        if !resynced && now >= nextResync {
            return Action(logs: logs, step: .readPod)
        }
        if !wrote, let transition = state.pendingWrite {
            if now >= writeNotBefore {
                return Action(logs: logs, step: .patchLabel(transition.labelValue))
            }
            if rules.testMode { markFailed() }  // the one check cannot write: it failed
        }
        if let event = pendingEvents.first, now >= eventNotBefore {
            return Action(logs: logs, step: .recordEvent(event))
        }
        return endCheck(now: now, logs: logs)
    }

    private mutating func afterEvent(now: Double, logs: [LogLine]) -> Action {
        switch phase {
        case .checking:
            return continueCheck(now: now, logs: logs)
        case .stopping:
            var action = resumeStop(now: now)
            action.logs = logs + action.logs
            return action
        case .starting, .idle, .finished:
            preconditionFailure("an Event outside a check or the stop")
        }
    }

    private mutating func endCheck(now: Double, logs: [LogLine]) -> Action {
        guard case .checking(_, _, let failed) = phase else { preconditionFailure("no check under way") }
        if rules.testMode {
            phase = .finished
            return Action(logs: logs, step: .exit(failed ? 1 : 0))
        }
        phase = .idle
        // A slow check skips ticks rather than bursting.
        nextCheck = max(nextCheck + rules.interval, now)
        return Action(logs: logs, step: .waitUntil(nextCheck))
    }

    private mutating func markFailed() {
        if case .checking(let resynced, let wrote, _) = phase {
            phase = .checking(resynced: resynced, wrote: wrote, failed: true)
        }
    }

    /// The label was written: remember it, log it, and queue its Event.
    private mutating func written(uid: String, wall: WallClock) -> [LogLine] {
        let transition: Transition
        if case .stopping = phase {
            transition = Transition(accepting: false, event: state.decision?.event)
        } else {
            guard let pending = state.pendingWrite else { preconditionFailure("a patch nobody asked for") }
            transition = pending
        }
        state.written(transition)
        if !uid.isEmpty { pod = PodReference(namespace: pod.namespace, name: pod.name, uid: uid) }
        guard let event = transition.event else {
            return [LogLine(.info, "label set", ["label": transition.labelValue])]
        }
        pendingEvents.append(makeEvent(event, about: pod, at: wall))
        if pendingEvents.count > 20 { pendingEvents.removeFirst() }
        return [LogLine(.info, "label set", [
            "label": transition.labelValue, "reason": event.reason.rawValue,
            "percent": lastPercent.map(formatPercent) ?? "unknown",
            "threshold": formatPercent(rules.threshold), "message": event.message])]
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

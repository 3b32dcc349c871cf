import Glibc
import HTTPLite

/// The watch loop: samples, decides through `LabelController`, and carries out
/// the writes, Events, re-reads and retries it asks for.
final class Controller {
    private let settings: Settings
    private let namespace: String
    private let api: KubeAPI
    private let usage: UsagePoller
    private let signals: SignalWatcher
    private let log: Log
    private var state: LabelController
    private var pod: PodReference
    private var writeBackoff = Backoff()
    private var writeNotBefore = 0.0
    private var nextResync = 0.0
    /// Events not yet accepted by the API server, oldest first; a few are kept across failures.
    private var pendingEvents: [JSON] = []
    private var eventNotBefore = 0.0
    private var eventBackoff = Backoff()
    /// The last good sample, for the log line of a transition.
    private var lastPercent: Double?
    /// Failures that repeat every check or resync are logged once, then once a minute.
    private var usageWarning = RepeatedWarning()
    private var resyncWarning = RepeatedWarning()

    init(settings: Settings, namespace: String, api: KubeAPI, usage: UsagePoller, signals: SignalWatcher, log: Log) {
        self.settings = settings
        self.namespace = namespace
        self.api = api
        self.usage = usage
        self.signals = signals
        self.log = log
        state = LabelController(threshold: settings.memoryPercent, policy: settings.onUsageFailure,
                                failureThreshold: settings.usageFailureThreshold)
        pod = PodReference(namespace: namespace, name: settings.podName, uid: "")
    }

    /// Runs until a signal (exit 0) or a fatal error (exit 1); in test mode, one check.
    func run() -> Int32 {
        switch start() {
        case .watching:
            break
        case .exit(let status):
            return status
        case .stop(let signal):
            return stop(signal: signal)
        }
        var nextTick = monotonicSeconds()
        while true {
            let ok = check()
            if settings.testMode {
                return ok ? 0 : 1
            }
            nextTick += settings.checkingInterval
            let now = monotonicSeconds()
            if nextTick < now { nextTick = now }  // a slow check skips ticks rather than bursting
            if let signal = signals.wait(until: nextTick, now: monotonicSeconds) {
                return stop(signal: signal)
            }
        }
    }

    // MARK: Start

    private enum StartOutcome {
        case watching
        case exit(Int32)
        /// A signal came before the pod could be read; the stop needs no read.
        case stop(signal: String)
    }

    /// Reads the pod, retrying an unreachable API server for `startupTimeout`.
    private func start() -> StartOutcome {
        let startedAt = monotonicSeconds()
        let giveUpAt = startedAt + settings.startupTimeout
        var backoff = Backoff(base: 0.5, cap: 5)
        while true {
            do throws(APIFailure) {
                let info = try api.getPod(namespace: namespace, name: settings.podName, label: settings.label)
                pod = PodReference(namespace: namespace, name: settings.podName, uid: info.uid)
                state.podRead(labelValue: info.labelValue)
                nextResync = monotonicSeconds() + settings.podResyncInterval
                log.info("watching pod", ["pod": "\(namespace)/\(settings.podName)", "label": info.labelValue ?? "(none)"])
                return .watching
            } catch {
                if let signal = signals.take() {
                    return .stop(signal: signal)
                }
                guard error.isRetryable, error.status != 409 else {
                    log.error(explain(error, verb: "get", resource: "pods"), ["error": error.description],
                              hint: error.status == 404 ? Controller.missingPodHint : nil)
                    return .exit(1)
                }
                let now = monotonicSeconds()
                guard now < giveUpAt else {
                    log.error("the API server could not be reached", ["error": error.description,
                                                                       "waited": formatSeconds(now - startedAt)])
                    return .exit(1)
                }
                // The last wait is cut short so that one more try falls on the deadline.
                let delay = min(backoff.nextDelay(retryAfter: error.retryAfter, random: random()), giveUpAt - now)
                log.warning("the API server is not reachable yet; retrying", ["error": error.description,
                                                                              "retry_in": formatSeconds(delay)])
                if let signal = signals.wait(until: now + delay, now: monotonicSeconds) {
                    return .stop(signal: signal)
                }
            }
        }
    }

    // MARK: One check

    /// Samples, re-reads the pod when due, writes the label when due. False when something failed.
    private func check() -> Bool {
        var ok = true
        switch usage.sample() {
        case .failure(let failure) where failure.interrupted:
            return ok  // a signal is waiting; the loop stops next
        case .success(let percent):
            log.debug("sample", ["percent": formatPercent(percent), "threshold": formatPercent(settings.memoryPercent)])
            logRecovery(usageWarning.succeeded(now: monotonicSeconds()), "the Usage API answers again")
            state.sampled(percent: percent)
            lastPercent = percent
        case .failure(let failure):
            ok = false
            state.sampleFailed(failure.description)
            log.debug("sample failed", ["error": failure.description, "failures_in_row": "\(state.consecutiveFailures)"])
            logRepeated(usageWarning.failed(now: monotonicSeconds()), "the Usage API is still failing",
                        error: failure.description, hint: failure.hint) {
                log.warning("the Usage API failed; keeping the last decision", [
                    "error": failure.description, "failures_in_row": "\(state.consecutiveFailures)",
                    "policy": settings.onUsageFailure.rawValue], hint: failure.hint)
            }
        }
        if monotonicSeconds() >= nextResync {
            ok = resync() && ok
        }
        ok = writeIfDue() && ok
        flushEvents()
        return ok
    }

    private func resync() -> Bool {
        do throws(APIFailure) {
            let info = try api.getPod(namespace: namespace, name: settings.podName, label: settings.label)
            if info.labelValue != state.labelAtServer {
                log.warning("the label was changed outside the watcher", ["found": info.labelValue ?? "(none)"])
            }
            state.podRead(labelValue: info.labelValue)
            nextResync = monotonicSeconds() + settings.podResyncInterval
            // The API server answers again: a write waiting out a backoff from the outage goes now.
            writeBackoff.reset()
            writeNotBefore = 0
            logRecovery(resyncWarning.succeeded(now: monotonicSeconds()), "the pod can be read again")
            return true
        } catch {
            if error.wasInterrupted { return true }  // a signal is waiting; the loop stops next
            logRepeated(resyncWarning.failed(now: monotonicSeconds()), "re-reading the pod still fails",
                        error: error.description, hint: nil) {
                log.warning("re-reading the pod failed", ["error": error.description])
            }
            nextResync = monotonicSeconds() + min(settings.podResyncInterval, 5)
            return false
        }
    }

    private func writeIfDue() -> Bool {
        guard let transition = state.pendingWrite else { return true }
        guard monotonicSeconds() >= writeNotBefore else { return !settings.testMode }
        do throws(APIFailure) {
            try write(transition)
            writeBackoff.reset()
            return true
        } catch {
            if error.wasInterrupted { return true }  // a signal is waiting; the loop stops next
            let delay = writeBackoff.nextDelay(retryAfter: error.retryAfter, random: random())
            writeNotBefore = monotonicSeconds() + delay
            if error.status == 409 { nextResync = 0 }  // someone else wrote: read before writing again
            let fields: KeyValuePairs<String, String> = ["label": transition.labelValue, "error": error.description,
                                                         "retry_in": formatSeconds(delay)]
            if error.isRetryable {
                log.warning("setting the label failed; will retry", fields)
            } else {
                log.error(explain(error, verb: "patch", resource: "pods"), fields)
            }
            return false
        }
    }

    private func write(_ transition: Transition) throws(APIFailure) {
        let info = try api.patchLabel(namespace: namespace, name: settings.podName, label: settings.label,
                                      value: transition.labelValue)
        state.written(transition)
        if !info.uid.isEmpty { pod = PodReference(namespace: namespace, name: settings.podName, uid: info.uid) }
        guard let event = transition.event else {
            log.info("label set", ["label": transition.labelValue])
            return
        }
        log.info("label set", ["label": transition.labelValue, "reason": event.reason,
                               "percent": lastPercent.map(formatPercent) ?? "unknown",
                               "threshold": formatPercent(settings.memoryPercent), "message": event.message])
        pendingEvents.append(makeEvent(event, about: pod, at: .now()))
        if pendingEvents.count > 20 { pendingEvents.removeFirst() }
    }

    /// Sends the pending Events, oldest first; the error that stopped it, if any.
    @discardableResult
    private func flushEvents() -> APIFailure? {
        guard !pendingEvents.isEmpty, monotonicSeconds() >= eventNotBefore else { return nil }
        while let event = pendingEvents.first {
            do throws(APIFailure) {
                try api.createEvent(namespace: namespace, event: event)
                pendingEvents.removeFirst()
                eventBackoff.reset()
            } catch {
                if error.wasInterrupted { return error }  // kept for later: the API server refused nothing
                if error.status == 409 || !error.isRetryable {
                    // A duplicate name means it was recorded; an invalid Event never will be.
                    pendingEvents.removeFirst()
                    log.error(explain(error, verb: "create", resource: "events"), ["error": error.description])
                    continue
                }
                let delay = eventBackoff.nextDelay(retryAfter: error.retryAfter, random: random())
                eventNotBefore = monotonicSeconds() + delay
                log.warning("recording an Event failed; will retry", ["error": error.description,
                                                                      "retry_in": formatSeconds(delay)])
                return error
            }
        }
        return nil
    }

    // MARK: Repeated warnings

    /// Carries out a `RepeatedWarning` decision: `first` logs the first failure in full.
    private func logRepeated(_ action: RepeatedWarning.Action, _ summary: String, error: String, hint: String?,
                             first: () -> Void) {
        switch action {
        case .logFirst:
            first()
        case .logSummary(let failures, let unlogged, let failingFor):
            log.warning(summary, ["failures_in_row": "\(failures)", "since_last_line": "\(unlogged)",
                                  "failing_for": formatSeconds(failingFor), "error": error], hint: hint)
        case .stayQuiet:
            break
        }
    }

    private func logRecovery(_ recovery: RepeatedWarning.Recovery, _ message: String) {
        switch recovery {
        case .logRecovered(let failures, let failedFor):
            log.info(message, ["failures": "\(failures)", "failed_for": formatSeconds(failedFor)])
        case .nothing:
            break
        }
    }

    // MARK: Stop

    /// Seconds from the signal within which the label is set and the Event recorded; the
    /// promise is an exit within 2 seconds, and starting and exiting take some of it.
    static let stopBudget = 1.5

    /// Sets `no` and records the Terminating Event within `stopBudget`, then exit 0.
    /// The patch is sent even when the label reads `no` already: what was last seen may be
    /// stale, and a merge patch of a fixed value changes nothing when it is not.
    private func stop(signal: String) -> Int32 {
        log.info("stopping: rejecting new connections", ["signal": signal])
        state.stopping(signal: signal)
        let deadline = monotonicSeconds() + Self.stopBudget
        api.deadline = deadline
        var stop = StopRetries(deadline: deadline)
        let transition = Transition(accepting: false, event: state.decision?.event)
        while true {
            do throws(APIFailure) {
                try write(transition)
                break
            } catch {
                guard let delay = stop.delay(after: error, now: monotonicSeconds(), random: random()) else {
                    log.error("could not set the label before stopping", ["error": error.description])
                    return finishStop()
                }
                if !error.wasInterrupted {
                    log.warning("setting the label failed; retrying before stopping", [
                        "error": error.description, "retry_in": formatSeconds(delay)])
                }
                if waitDuringStop(until: monotonicSeconds() + delay, &stop) {
                    log.error("could not set the label before stopping", ["error": "stopped by a third signal"])
                    return finishStop()
                }
            }
        }
        eventNotBefore = 0
        while let error = flushEvents() {
            guard let delay = stop.delay(after: error, now: monotonicSeconds(), random: random()),
                  !waitDuringStop(until: monotonicSeconds() + delay, &stop) else { break }
            eventNotBefore = 0
        }
        return finishStop()
    }

    /// Waits until `time`, counting signals; true when one more signal than the stop allows came.
    private func waitDuringStop(until time: Double, _ stop: inout StopRetries) -> Bool {
        while let signal = signals.take() ?? signals.wait(until: time, now: monotonicSeconds) {
            if stop.signalled() {
                log.info("stopping at once", ["signal": signal])
                return true
            }
        }
        return false
    }

    private func finishStop() -> Int32 {
        log.info("stopped")
        return 0
    }

    /// A pod not found at start is most often a POD_NAME typed in by hand (or left at its default).
    static let missingPodHint = "set POD_NAME and POD_NAMESPACE from the downward API "
        + "(env valueFrom.fieldRef.fieldPath: metadata.name and metadata.namespace) so that they name this pod"

    private func explain(_ error: APIFailure, verb: String, resource: String) -> String {
        if error.rejectsCertificate {
            return "the API server's certificate did not verify against the CA from \(api.endpoint.certificateAuthoritySetting)"
        }
        switch error.status {
        case 401: return "the API server rejected the token (401 Unauthorized)"
        case 403: return "forbidden: the pod's Role must grant \"\(verb)\" on \"\(resource)\" in namespace \(namespace)"
        case 404: return "pod \(namespace)/\(settings.podName) not found"
        default: return "the API server refused to \(verb) \(resource)"
        }
    }
}

private func random() -> Double {
    Double(UInt64.random(in: 0..<(1 << 53))) / Double(1 << 53)
}

func formatSeconds(_ value: Double) -> String {
    "\(formatPercent(value))s"
}

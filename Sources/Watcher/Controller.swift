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
        if let status = start() { return status }
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

    /// Reads the pod, retrying an unreachable API server for `startupTimeout`.
    /// Nil when watching can begin, else the exit status.
    private func start() -> Int32? {
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
                return nil
            } catch {
                if signals.take() != nil || error.reason == "interrupted" {
                    log.info("stopped before the pod could be read")
                    return 0
                }
                guard error.isRetryable, error.status != 409 else {
                    log.error(explain(error, verb: "get", resource: "pods"), ["error": error.description])
                    return 1
                }
                let now = monotonicSeconds()
                guard now < giveUpAt else {
                    log.error("the API server could not be reached", ["error": error.description,
                                                                       "waited": formatSeconds(now - startedAt)])
                    return 1
                }
                // The last wait is cut short so that one more try falls on the deadline.
                let delay = min(backoff.nextDelay(retryAfter: error.retryAfter, random: random()), giveUpAt - now)
                log.warning("the API server is not reachable yet; retrying", ["error": error.description,
                                                                              "retry_in": formatSeconds(delay)])
                if let signal = signals.wait(until: now + delay, now: monotonicSeconds) {
                    log.info("stopped before the pod could be read", ["signal": signal])
                    return 0
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
            state.sampled(percent: percent)
            lastPercent = percent
        case .failure(let failure):
            ok = false
            state.sampleFailed(failure.description)
            log.warning("the Usage API failed; keeping the last decision", [
                "error": failure.description, "failures_in_row": "\(state.consecutiveFailures)",
                "policy": settings.onUsageFailure.rawValue])
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
            return true
        } catch {
            log.warning("re-reading the pod failed", ["error": error.description])
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

    private func flushEvents() {
        guard !pendingEvents.isEmpty, monotonicSeconds() >= eventNotBefore else { return }
        while let event = pendingEvents.first {
            do throws(APIFailure) {
                try api.createEvent(namespace: namespace, event: event)
                pendingEvents.removeFirst()
                eventBackoff.reset()
            } catch {
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
                return
            }
        }
    }

    // MARK: Stop

    /// Sets `no` and records an Event, all within 2 seconds, then exit 0.
    private func stop(signal: String) -> Int32 {
        log.info("stopping: rejecting new connections", ["signal": signal])
        state.stopping(signal: signal)
        // Kubernetes waits terminationGracePeriodSeconds, but the promise here is 2 seconds.
        api.deadline = monotonicSeconds() + 1.2
        if let transition = state.pendingWrite {
            do throws(APIFailure) {
                try write(transition)
            } catch {
                log.error("could not set the label before stopping", ["error": error.description])
            }
        } else if let event = state.decision?.event {
            pendingEvents.append(makeEvent(event, about: pod, at: .now()))
        }
        eventNotBefore = 0
        flushEvents()
        log.info("stopped")
        return 0
    }

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

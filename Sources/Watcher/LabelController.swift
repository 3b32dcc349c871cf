/// A label value to write, and the Event that explains it (none for the first `yes`).
struct Transition: Equatable {
    struct Event: Equatable {
        /// Why the label changes: the Event's `reason`, in Kubernetes' CamelCase.
        enum Reason: String {
            case overThreshold = "OverThreshold"
            case belowThreshold = "BelowThreshold"
            case usageUnavailable = "UsageUnavailable"
            case terminating = "Terminating"
        }

        let reason: Reason
        let message: String

        /// `Warning` for what an operator may need to act on, else `Normal`.
        var type: String {
            switch reason {
            case .overThreshold, .usageUnavailable: return "Warning"
            case .belowThreshold, .terminating: return "Normal"
            }
        }
    }

    let accepting: Bool
    let event: Event?

    var labelValue: String { accepting ? "yes" : "no" }
}

/// Decides what the label should be. No I/O: the loop reports what happened
/// (samples, pod reads, writes) and asks for the write that is due.
struct LabelController {
    let threshold: Double
    let policy: Settings.UsageFailurePolicy
    let failureThreshold: Int

    /// The label's value at the API server as last seen or written; nil when the pod has none.
    private(set) var labelAtServer: String?
    /// The latest decision; nil until the first sample (the label is then only ensured).
    private(set) var decision: Transition?
    private(set) var consecutiveFailures = 0

    init(threshold: Double, policy: Settings.UsageFailurePolicy, failureThreshold: Int) {
        self.threshold = threshold
        self.policy = policy
        self.failureThreshold = failureThreshold
    }

    /// The write that would make the server match the decision, if any is needed.
    var pendingWrite: Transition? {
        guard let decision else {
            // A pod without the label counts as accepting and gets `yes` (as the original tool did).
            return labelAtServer == "yes" || labelAtServer == "no" ? nil : Transition(accepting: true, event: nil)
        }
        if labelAtServer == decision.labelValue { return nil }
        // A missing or unknown value counts as accepting: writing `yes` over it
        // puts the label right but changes nothing for the Service, so no Event.
        if decision.accepting && labelAtServer != "no" { return Transition(accepting: true, event: nil) }
        return decision
    }

    mutating func podRead(labelValue: String?) {
        labelAtServer = labelValue
    }

    mutating func written(_ transition: Transition) {
        labelAtServer = transition.labelValue
    }

    /// A sample arrived: at or above the threshold rejects, below accepts.
    mutating func sampled(percent: Double) {
        consecutiveFailures = 0
        let usage = "Echo container uses \(formatPercent(percent))%, threshold is \(formatPercent(threshold))%"
        if percent >= threshold {
            decision = Transition(accepting: false, event: .init(
                reason: .overThreshold, message: "Rejecting new connections. \(usage)"))
        } else {
            decision = Transition(accepting: true, event: .init(
                reason: .belowThreshold, message: "Accepting new connections. \(usage)"))
        }
    }

    /// A sample failed. `keep` leaves the decision alone; `reject` turns it to `no`
    /// once `failureThreshold` samples in a row have failed.
    mutating func sampleFailed(_ failure: String) {
        consecutiveFailures += 1
        guard policy == .reject, consecutiveFailures >= failureThreshold else { return }
        if decision?.accepting == false && decision?.event?.reason == .usageUnavailable { return }
        decision = Transition(accepting: false, event: .init(
            reason: .usageUnavailable,
            message: "Rejecting new connections. The Usage API failed \(consecutiveFailures) times in a row: \(failure)"))
    }

    /// The pod is stopping: reject new connections from now on.
    mutating func stopping(signal: String) {
        decision = Transition(accepting: false, event: .init(
            reason: .terminating,
            message: "Rejecting new connections. The watcher received \(signal) and the pod is stopping"))
    }
}

/// `80` for whole numbers, else up to two decimals (`80.25`), as the original printed them.
func formatPercent(_ value: Double) -> String {
    let hundredths = (value * 100).rounded()
    if hundredths.magnitude >= 1e15 { return "\(value)" }
    let whole = Int(hundredths) / 100
    let fraction = abs(Int(hundredths) % 100)
    if fraction == 0 { return "\(whole)" }
    let sign = hundredths < 0 && whole == 0 ? "-" : ""
    return fraction % 10 == 0 ? "\(sign)\(whole).\(fraction / 10)" : "\(sign)\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
}

func formatSeconds(_ value: Double) -> String {
    "\(formatPercent(value))s"
}

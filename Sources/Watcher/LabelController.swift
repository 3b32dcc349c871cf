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
///
/// Hysteresis (README, "How it decides"): an accepting pod rejects at or above
/// `threshold`; a rejecting pod accepts again below `acceptBelow`; either flips only
/// after `flipAfterSamples` good samples in a row on the other side. The first good
/// sample decides at once, a failed sample neither counts nor breaks the run, and
/// the stop rejects at once. `acceptBelow == threshold` with one sample is the
/// original tool's rule, with its Event messages word for word.
struct LabelController {
    /// At or above this percent an accepting pod rejects new connections (`MEMORY_PERCENT`).
    let threshold: Double
    /// Below this percent a rejecting pod accepts again (`ACCEPT_PERCENT`, at most `threshold`).
    let acceptBelow: Double
    /// Good samples in a row on the other side before the decision flips (`FLIP_AFTER_SAMPLES`, at least 1).
    let flipAfterSamples: Int
    let policy: Settings.UsageFailurePolicy
    let failureThreshold: Int

    /// The label's value at the API server as last seen or written; nil when the pod has none.
    private(set) var labelAtServer: String?
    /// The latest decision; nil until the first sample (the label is then only ensured).
    private(set) var decision: Transition?
    private(set) var consecutiveFailures = 0
    /// Good samples in a row on the other side of the decision, so far short of `flipAfterSamples`.
    private(set) var samplesAcross = 0

    /// `acceptBelow` nil means `threshold`: no band, the original tool's rule.
    init(threshold: Double, acceptBelow: Double? = nil, flipAfterSamples: Int = 1,
         policy: Settings.UsageFailurePolicy, failureThreshold: Int) {
        let acceptBelow = acceptBelow ?? threshold
        // Settings.parse refuses both; a controller built otherwise is a bug.
        precondition(acceptBelow <= threshold, "accept threshold \(acceptBelow) above the threshold \(threshold)")
        precondition(flipAfterSamples >= 1, "flipAfterSamples \(flipAfterSamples)")
        self.threshold = threshold
        self.acceptBelow = acceptBelow
        self.flipAfterSamples = flipAfterSamples
        self.policy = policy
        self.failureThreshold = failureThreshold
    }

    /// The controller the settings describe.
    init(settings: Settings) {
        self.init(threshold: settings.memoryPercent, acceptBelow: settings.acceptPercent,
                  flipAfterSamples: settings.flipAfterSamples, policy: settings.onUsageFailure,
                  failureThreshold: settings.usageFailureThreshold)
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

    /// A sample arrived. An accepting pod counts samples at or above `threshold`, a
    /// rejecting one samples below `acceptBelow`; `flipAfterSamples` of them in a row
    /// flip the decision, any other sample ends the run. Before the first decision the
    /// pod is on the side its label was found on (`no`, or accepting), and one sample
    /// decides.
    mutating func sampled(percent: Double) {
        consecutiveFailures = 0
        if decision?.event?.reason == .terminating { return }
        let accepting = decision?.accepting ?? (labelAtServer != "no")
        let across = accepting ? percent >= threshold : percent < acceptBelow
        guard across else {
            samplesAcross = 0
            // The same side, with the latest percent in the message should the label need putting right.
            decision = usageTransition(accepting: accepting, percent: percent)
            return
        }
        samplesAcross += 1
        // No pod waits with an unknown decision: the first sample decides at once.
        guard decision == nil || samplesAcross >= flipAfterSamples else { return }
        samplesAcross = 0
        decision = usageTransition(accepting: !accepting, percent: percent)
    }

    /// A sample failed. `keep` leaves the decision alone; `reject` turns it to `no`
    /// once `failureThreshold` samples in a row have failed. A run of samples across
    /// the threshold waits for the next good sample.
    mutating func sampleFailed(_ failure: String) {
        consecutiveFailures += 1
        guard policy == .reject, consecutiveFailures >= failureThreshold else { return }
        switch decision?.event?.reason {
        case .usageUnavailable, .terminating:
            return
        case .overThreshold, .belowThreshold, nil:
            break
        }
        // A new decision, not one taken from the samples: the samples seen before do not count towards the next flip.
        samplesAcross = 0
        decision = Transition(accepting: false, event: .init(
            reason: .usageUnavailable,
            message: "Rejecting new connections. The Usage API failed \(consecutiveFailures) times in a row: \(failure)"))
    }

    /// The pod is stopping: reject new connections from now on, at once, whatever the samples say.
    mutating func stopping(signal: String) {
        samplesAcross = 0
        decision = Transition(accepting: false, event: .init(
            reason: .terminating,
            message: "Rejecting new connections. The watcher received \(signal) and the pod is stopping"))
    }

    /// The decision on `accepting`'s side at `percent`, its message stating the thresholds in force:
    /// with the defaults exactly the original tool's words, which users match.
    private func usageTransition(accepting: Bool, percent: Double) -> Transition {
        var usage = "Echo container uses \(formatPercent(percent))%, threshold is \(formatPercent(threshold))%"
        if acceptBelow < threshold { usage += ", accepts again below \(formatPercent(acceptBelow))%" }
        if flipAfterSamples > 1 { usage += ", flips after \(flipAfterSamples) samples in a row" }
        return accepting
            ? Transition(accepting: true, event: .init(reason: .belowThreshold, message: "Accepting new connections. \(usage)"))
            : Transition(accepting: false, event: .init(reason: .overThreshold, message: "Rejecting new connections. \(usage)"))
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

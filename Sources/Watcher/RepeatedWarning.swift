/// Thins out a warning that would repeat every check while something stays broken:
/// the first failure is logged in full, then one summary per `period`, then one
/// line when it works again. No I/O and no clock of its own: callers pass `now`
/// (monotonic seconds) and log what the returned action says.
struct RepeatedWarning {
    /// What to log for a failure.
    enum Action: Equatable {
        /// The first failure since things last worked: log it in full.
        case logFirst
        /// A period has passed since the last line: log how many failed in all
        /// (`failures`), how many went unlogged since that line, and for how long
        /// it has been failing.
        case logSummary(failures: Int, unlogged: Int, failingFor: Double)
        /// Logged recently enough; count it and stay quiet.
        case stayQuiet
    }

    /// What to log for a success.
    enum Recovery: Equatable {
        /// It was working already.
        case nothing
        /// It had failed `failures` times in a row, starting `failedFor` seconds ago.
        case logRecovered(failures: Int, failedFor: Double)
    }

    private enum State: Equatable {
        case working
        case failing(since: Double, failures: Int, lastLine: Double, unlogged: Int)
    }

    /// Seconds between summary lines.
    let period: Double
    private var state = State.working

    init(period: Double = 60) {
        self.period = period
    }

    mutating func failed(now: Double) -> Action {
        switch state {
        case .working:
            state = .failing(since: now, failures: 1, lastLine: now, unlogged: 0)
            return .logFirst
        case .failing(let since, let failures, let lastLine, let unlogged):
            if now - lastLine >= period {
                state = .failing(since: since, failures: failures + 1, lastLine: now, unlogged: 0)
                return .logSummary(failures: failures + 1, unlogged: unlogged + 1, failingFor: now - since)
            }
            state = .failing(since: since, failures: failures + 1, lastLine: lastLine, unlogged: unlogged + 1)
            return .stayQuiet
        }
    }

    mutating func succeeded(now: Double) -> Recovery {
        switch state {
        case .working:
            return .nothing
        case .failing(let since, let failures, _, _):
            state = .working
            return .logRecovered(failures: failures, failedFor: now - since)
        }
    }
}

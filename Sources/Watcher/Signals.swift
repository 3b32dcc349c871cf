import CSystem
import Glibc

/// SIGTERM and SIGINT delivered as a readable descriptor (signalfd) instead of
/// to a handler, so no work happens in signal context and every wait in the
/// program can end when one arrives. As PID 1 in a container a signal with
/// no handler does nothing; blocking it and reading it here handles it.
final class SignalWatcher {
    let descriptor: Int32

    init() {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        sigprocmask(SIG_BLOCK, &signals, nil)
        descriptor = signalfd(-1, &signals, Int32(SFD_CLOEXEC | SFD_NONBLOCK))
        precondition(descriptor >= 0, "signalfd failed: errno \(errno)")
    }

    /// Waits until `deadline` (monotonic seconds) or a signal; the signal's name, or nil at the deadline.
    func wait(until deadline: Double, now: () -> Double) -> String? {
        while true {
            let remaining = deadline - now()
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            // Only a readable descriptor is worth a read: a check costs no idle syscalls.
            let ready = poll(&entry, 1, Int32(min(max(remaining, 0) * 1000, 3_600_000).rounded(.up)))
            if ready > 0, let name = take() { return name }
            if remaining <= 0 || (ready == 0 && now() >= deadline) { return nil }
        }
    }

    /// Reads one pending signal, if any, so the descriptor stops being readable.
    func take() -> String? {
        var info = signalfd_siginfo()
        let count = withUnsafeMutableBytes(of: &info) { read(descriptor, $0.baseAddress, $0.count) }
        guard count == MemoryLayout<signalfd_siginfo>.size else { return nil }
        return info.ssi_signo == UInt32(SIGINT) ? "SIGINT" : "SIGTERM"
    }
}

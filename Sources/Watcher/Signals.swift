import Glibc
import HTTPLite

/// SIGTERM and SIGINT delivered as a readable descriptor (signalfd) instead of
/// to a handler, so no work happens in signal context and every wait in the
/// program can end when one arrives. As PID 1 in a container a signal with
/// no handler does nothing; blocking it and reading it here handles it.
final class SignalWatcher {
    let descriptor: Int32

    init() {
        do {
            try System.blockSignals([SIGTERM, SIGINT])
            descriptor = try System.signalfd([SIGTERM, SIGINT])
        } catch {
            // Only a process out of descriptors or memory gets here, before any work.
            preconditionFailure("cannot watch for signals: \(error)")
        }
    }

    /// Waits until `deadline` (monotonic seconds) or a signal; the signal's name, or nil at the deadline.
    func wait(until deadline: Double, now: () -> Double) -> String? {
        while true {
            let remaining = deadline - now()
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let timeout = Int32(min(max(remaining, 0) * 1000, 3_600_000).rounded(.up))
            // Only a readable descriptor is worth a read: a check costs no idle syscalls.
            // A failed poll (for one valid descriptor only ENOMEM) counts as nothing ready.
            let ready = withUnsafeMutablePointer(to: &entry) { try? System.poll(.init(start: $0, count: 1), timeout: timeout) } ?? 0
            if ready > 0, let name = take() { return name }
            if remaining <= 0 || (ready == 0 && now() >= deadline) { return nil }
        }
    }

    /// Reads one pending signal, if any, so the descriptor stops being readable.
    func take() -> String? {
        // Nothing pending is nil; a signalfd read has no other failure for a valid descriptor.
        guard let signal = try? System.readSignal(descriptor) else { return nil }
        return signal == SIGINT ? "SIGINT" : "SIGTERM"
    }
}

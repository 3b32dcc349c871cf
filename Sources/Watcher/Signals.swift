#if canImport(Glibc)
import Glibc
#else
import CSystem
#endif
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

    /// Reads one pending signal, if any, so the descriptor stops being readable.
    func take() -> String? {
        // Nothing pending is nil; a signalfd read has no other failure for a valid descriptor.
        guard let signal = try? System.readSignal(descriptor) else { return nil }
        return signal == SIGINT ? "SIGINT" : "SIGTERM"
    }
}

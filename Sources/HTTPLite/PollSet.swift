#if canImport(Glibc)
import Glibc
#else
import CSystem
#endif

extension PollInterest {
    /// Readability of `descriptor`, for example a signalfd.
    public static func readable(_ descriptor: Int32) -> PollInterest {
        PollInterest(descriptor: descriptor, events: Int16(POLLIN))
    }
}

/// Waits in one poll(2) until one of `interests` is ready or the monotonic time `wakeAt`
/// (seconds, as `monotonicSeconds()`) comes; nil waits without limit. Returns, for each
/// interest in order, what poll reported (`revents`, 0 when not ready; an error or hang-up
/// counts as ready: the next read or write tells what it is). A failed wait (for valid
/// descriptors only ENOMEM) counts as nothing ready.
public func waitForAny(_ interests: [PollInterest], until wakeAt: Double?) -> [Int16] {
    var entries = interests.map { pollfd(fd: $0.descriptor, events: $0.events, revents: 0) }
    var timeout: Int32 = -1
    if let wakeAt {
        // Rounded up, so that a wait never ends just short of the time and spins.
        timeout = Int32(min(max(wakeAt - monotonicSeconds(), 0) * 1000, 3_600_000).rounded(.up))
    }
    let ready = entries.withUnsafeMutableBufferPointer { list in (try? System.poll(list, timeout: timeout)) ?? 0 }
    return entries.map { ready > 0 ? $0.revents : 0 }
}

#if canImport(Glibc)
import Glibc
#else
import CSystem
#endif
import HTTPLite

/// How a child process ended and what it wrote.
struct ChildResult {
    /// Why it counts as failed ("exit status 1", "killed by signal 9", "timed out after 10 s"); nil after exit status 0.
    let failure: String?
    let standardOutput: [UInt8]
    let standardError: [UInt8]
}

/// A child process that could not be started.
struct ChildError: Error, CustomStringConvertible {
    let description: String
}

/// Runs `arguments` (the first is searched in PATH when it has no slash) with
/// `environment` ("NAME=value" entries) and standard input from /dev/null.
/// Waits at most `timeout` seconds, and less when `interrupt` (a descriptor,
/// -1 for none) becomes readable; the child is killed when either ends the
/// wait. Output past `outputLimit` bytes also kills it.
func runChild(_ arguments: [String], environment: [String], timeout: Double, interrupt: Int32 = -1,
              outputLimit: Int = 1 << 20) throws(ChildError) -> ChildResult {
    let out: (read: Int32, write: Int32)
    let err: (read: Int32, write: Int32)
    do {
        out = try System.pipe()
    } catch {
        throw ChildError(description: error.description)
    }
    do {
        err = try System.pipe()
    } catch {
        System.close(out.read)
        System.close(out.write)
        throw ChildError(description: error.description)
    }
    let spawned = Result { () throws(SystemError) -> pid_t in
        try System.spawn(arguments, environment: environment, standardOutput: out.write, standardError: err.write)
    }
    // The child has its copies; this process keeps only the read ends.
    System.close(out.write)
    System.close(err.write)
    let pid: pid_t
    switch spawned {
    case .success(let started):
        pid = started
    case .failure(let error):
        System.close(out.read)
        System.close(err.read)
        // posix_spawnp's own failure (ENOENT, EACCES) names the program, as a shell would.
        throw ChildError(description: error.call == "posix_spawnp" ? "\(arguments[0]): \(error.reason)" : error.description)
    }
    let deadline = monotonicSeconds() + timeout
    let timedOut = "timed out after \(timeout == timeout.rounded() ? String(Int(timeout)) : String(timeout)) s"
    let (output, errors, stoppedEarly) = readBoth(out.read, err.read, until: deadline, interrupt: interrupt, limit: outputLimit)
    var stopped = stoppedEarly
    System.close(out.read)
    System.close(err.read)
    if stopped == nil && monotonicSeconds() >= deadline { stopped = timedOut }
    if stopped != nil { stopped = killChild(pid, because: stopped) }
    // The pipes may close before the child exits (or be handed to its own
    // children), so the wait for its exit is bounded by the deadline too.
    while true {
        let end: (signal: Int32, exitStatus: Int32)?
        do {
            end = try System.waitpid(pid)
        } catch {
            // ECHILD (SIGCHLD ignored, so the kernel reaped it): how it ended is unknown.
            return ChildResult(failure: stopped ?? "cannot learn how it ended: \(error)",
                               standardOutput: output, standardError: errors)
        }
        guard let end else {
            if stopped == nil && monotonicSeconds() >= deadline {
                stopped = killChild(pid, because: timedOut)
            }
            System.sleep(milliseconds: 5)
            continue
        }
        if stopped == nil && end.signal != 0 {
            stopped = "killed by signal \(end.signal)"
        } else if stopped == nil && end.exitStatus != 0 {
            stopped = "exit status \(end.exitStatus)"
        }
        return ChildResult(failure: stopped, standardOutput: output, standardError: errors)
    }
}

/// Kills the child; the reason it was stopped, with the kill's failure if it had one.
private func killChild(_ pid: pid_t, because reason: String?) -> String? {
    do {
        try System.kill(pid, SIGKILL)
        return reason
    } catch {
        // Unreaped, the child still has its pid, so this is not expected; say so rather than hang quietly.
        return "\(reason ?? "stopped"); \(error)"
    }
}

/// Reads both pipes until both close, `deadline` passes, `interrupt` is readable or
/// `limit` is exceeded; what was read and why reading stopped early (nil if it did not).
private func readBoth(_ out: Int32, _ err: Int32, until deadline: Double, interrupt: Int32,
                      limit: Int) -> ([UInt8], [UInt8], String?) {
    var collected: [[UInt8]] = [[], []]
    var open = [true, true]
    var buffer = [UInt8](repeating: 0, count: 16 * 1024)
    while open[0] || open[1] {
        let remaining = deadline - monotonicSeconds()
        if remaining <= 0 { return (collected[0], collected[1], nil) }
        var entries = [pollfd(fd: open[0] ? out : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: open[1] ? err : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: interrupt, events: Int16(POLLIN), revents: 0)]
        let timeout = Int32(min((remaining * 1000).rounded(.up), 60_000))
        let polled = entries.withUnsafeMutableBufferPointer { list in
            Result { () throws(SystemError) -> Int in try System.poll(list, timeout: timeout) }
        }
        if case .failure(let error) = polled { return (collected[0], collected[1], error.description) }
        if entries[2].revents != 0 { return (collected[0], collected[1], "interrupted") }
        for which in 0..<2 where open[which] && entries[which].revents != 0 {
            let descriptor = which == 0 ? out : err
            let read = buffer.withUnsafeMutableBytes { raw in
                Result { () throws(SystemError) -> Int? in try System.read(descriptor, into: raw) }
            }
            switch read {
            case .success(let count?) where count > 0:
                collected[which] += buffer[0..<count]
                if collected[which].count > limit {
                    return (collected[0], collected[1], "wrote more than \(limit) bytes")
                }
            case .success(nil):
                break  // a blocking pipe never says "would block"; poll again
            case .success, .failure:
                open[which] = false  // end of file, or a read error that ends this pipe
            }
        }
    }
    return (collected[0], collected[1], nil)
}

/// The watcher's own environment as "NAME=value" entries, for a child to inherit.
func processEnvironment() -> [String] {
    System.environment()
}

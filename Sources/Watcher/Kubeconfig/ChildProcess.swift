import CSystem
import Glibc
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
    var outPipe: [Int32] = [-1, -1]
    var errPipe: [Int32] = [-1, -1]
    guard pipe(&outPipe) == 0 else { throw ChildError(description: "pipe: \(String(cString: strerror(errno)))") }
    guard pipe(&errPipe) == 0 else {
        let code = errno
        outPipe.forEach { close($0) }
        throw ChildError(description: "pipe: \(String(cString: strerror(code)))")
    }
    // Only the dup2'ed copies may reach the child (pipe2 is not in Swift's Glibc module).
    for descriptor in outPipe + errPipe { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
    // Descriptors the watcher inherited without close-on-exec (from its own parent) are
    // not the plugin's business.
    let closing = posix_spawn_file_actions_addclosefrom_np(&actions, 3)
    guard closing == 0 else {  // posix_spawn's calls return the error number rather than set errno
        (outPipe + errPipe).forEach { close($0) }
        throw ChildError(description: "posix_spawn_file_actions_addclosefrom_np: \(String(cString: strerror(closing)))")
    }
    // The watcher blocks SIGTERM/SIGINT (they arrive through a signalfd) and
    // ignores SIGPIPE; a child inherits both unless told otherwise, and then
    // could neither be stopped nor notice a closed pipe.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signal in [SIGPIPE, SIGTERM, SIGINT] { sigaddset(&defaults, signal) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    var pid: pid_t = 0
    let spawned = withCStrings(arguments) { argv in
        withCStrings(environment) { envp in posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp) }
    }
    close(outPipe[1])
    close(errPipe[1])
    guard spawned == 0 else {
        close(outPipe[0])
        close(errPipe[0])
        throw ChildError(description: "\(arguments[0]): \(String(cString: strerror(spawned)))")
    }
    let deadline = monotonicSeconds() + timeout
    let timedOut = "timed out after \(timeout == timeout.rounded() ? String(Int(timeout)) : String(timeout)) s"
    let (output, errors, stoppedEarly) = readBoth(outPipe[0], errPipe[0], until: deadline, interrupt: interrupt, limit: outputLimit)
    var stopped = stoppedEarly
    close(outPipe[0])
    close(errPipe[0])
    if stopped == nil && monotonicSeconds() >= deadline { stopped = timedOut }
    if stopped != nil { kill(pid, SIGKILL) }
    var status: Int32 = 0
    // The pipes may close before the child exits (or be handed to its own
    // children), so the wait for its exit is bounded by the deadline too.
    while true {
        let waited = waitpid(pid, &status, WNOHANG)
        if waited == pid { break }
        if waited < 0 && errno != EINTR { break }
        if waited == 0 && stopped == nil && monotonicSeconds() >= deadline {
            stopped = timedOut
            kill(pid, SIGKILL)
        }
        _ = poll(nil, 0, 5)
    }
    if stopped == nil {
        if status & 0x7F != 0 {
            stopped = "killed by signal \(status & 0x7F)"
        } else if (status >> 8) & 0xFF != 0 {
            stopped = "exit status \((status >> 8) & 0xFF)"
        }
    }
    return ChildResult(failure: stopped, standardOutput: output, standardError: errors)
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
        let ready = poll(&entries, 3, Int32(min((remaining * 1000).rounded(.up), 60_000)))
        if ready < 0 && errno != EINTR { return (collected[0], collected[1], "poll: \(String(cString: strerror(errno)))") }
        if entries[2].revents != 0 { return (collected[0], collected[1], "interrupted") }
        for which in 0..<2 where open[which] && entries[which].revents != 0 {
            let count = buffer.withUnsafeMutableBytes { read(which == 0 ? out : err, $0.baseAddress, $0.count) }
            if count > 0 {
                collected[which] += buffer[0..<count]
                if collected[which].count > limit {
                    return (collected[0], collected[1], "wrote more than \(limit) bytes")
                }
            } else if count == 0 || errno != EINTR {
                open[which] = false
            }
        }
    }
    return (collected[0], collected[1], nil)
}

/// Calls `body` with a NULL-terminated array of C copies of `strings`, freed afterwards.
private func withCStrings<T>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> T) -> T {
    var pointers = strings.map { strdup($0) }
    pointers.append(nil)
    defer { pointers.forEach { free($0) } }
    return body(pointers)
}

/// The watcher's own environment as "NAME=value" entries, for a child to inherit.
func processEnvironment() -> [String] {
    var entries: [String] = []
    var cursor = environ
    while let entry = cursor.pointee {
        entries.append(String(cString: entry))
        cursor += 1
    }
    return entries
}

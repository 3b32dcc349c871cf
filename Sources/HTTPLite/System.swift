import CSystem
#if hasFeature(Embedded)
import CEmbedded
#endif

// The one place that calls the C library (OpenSSL calls live in the TLS files),
// in the manner of swift-nio's NIOPosix/System.swift. Each wrapper makes one
// call, reads errno right after it, retries EINTR, keeps "would block" (nil)
// apart from failure (a thrown SystemError), checks every result and hands
// back Swift values. Everything else calls these as `System.name(...)`;
// scripts/check-fence.sh fails on any other call.

/// A failed system call: the call's name and the errno it left (or, for
/// getaddrinfo, its own error code).
///
/// Apart from `HTTPError` because it is not about HTTP: the Watcher's own
/// calls (signalfd, posix_spawn, waitpid) throw it too, and HTTPLite's
/// sockets decide on its errno (a refused connect, a reset) before turning it
/// into an `HTTPError` at their edge.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    /// The C call that failed, e.g. `"connect"`.
    public let call: String
    /// errno values are positive; getaddrinfo's own EAI_ codes are negative in glibc.
    private let code: Int32

    init(_ call: String, errno code: Int32) {
        self.call = call
        self.code = code
    }

    init(_ call: String, addressInfo code: Int32) {
        self.call = call
        self.code = code < 0 ? code : -code
    }

    /// The errno value, or nil for a resolver failure.
    var errnoCode: Int32? { code > 0 ? code : nil }

    /// The C library's text for the failure (`strerror` or `gai_strerror`).
    public var reason: String {
        code > 0 ? String(cString: strerror(code)) : String(cString: gai_strerror(code))
    }

    /// `call: reason (errno N)`, without the errno for a resolver failure.
    public var description: String { described(as: call) }

    /// The description with `name` for the call's (`open /token: ...`).
    func described(as name: String) -> String {
        "\(name): \(reason)\(code > 0 ? " (errno \(code))" : "")"
    }
}

#if hasFeature(Embedded)
/// errno, as the Glibc module spells it (for TLSSession): Embedded mode has no Glibc module.
var errno: Int32 { csystem_errno() }
#endif

/// A UTC calendar time, as `gmtime_r` and `timegm` see it (month 1...12).
/// A tuple rather than a struct: it needs no type metadata in the binary.
public typealias CalendarTime = (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int)

/// The C library calls the product makes, each behind one wrapper.
public enum System {
    /// Calls `body` until it is not interrupted; throws on -1 with errno read at once.
    @inline(__always)
    private static func retrying<T: FixedWidthInteger>(_ call: String, _ body: () -> T) throws(SystemError) -> T {
        while true {
            let result = body()
            if result != -1 { return result }
            let code = csystem_errno()
            if code != EINTR { throw SystemError(call, errno: code) }
        }
    }

    /// As `retrying`, but nil when the call would block.
    @inline(__always)
    private static func nonBlocking<T: FixedWidthInteger>(_ call: String, _ body: () -> T) throws(SystemError) -> T? {
        while true {
            let result = body()
            if result != -1 { return result }
            let code = csystem_errno()
            switch code {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            default: throw SystemError(call, errno: code)
            }
        }
    }

    // MARK: Descriptors

    /// Opens `path` read-only (close-on-exec); the descriptor.
    @inline(__always)
    public static func openForReading(_ path: String) throws(SystemError) -> Int32 {
        try retrying("open") { csystem_open(path, O_RDONLY | O_CLOEXEC) }
    }

    /// Reads up to `buffer.count` bytes: the count (0 means end of file or the peer closed),
    /// nil when nothing is ready on a non-blocking descriptor.
    public static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int? {
        try nonBlocking("read") { CSystem.read(descriptor, buffer.baseAddress, buffer.count) }
    }

    /// Writes some of `bytes`: the count, nil when a non-blocking descriptor has no room.
    public static func write(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int? {
        try nonBlocking("write") { CSystem.write(descriptor, bytes.baseAddress, bytes.count) }
    }

    /// Writes all of `bytes`; a descriptor without room throws EAGAIN.
    public static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            guard let written = try write(descriptor, UnsafeRawBufferPointer(rebasing: bytes[offset...])) else {
                throw SystemError("write", errno: EAGAIN)
            }
            offset += written
        }
    }

    /// Writes all of `text` to standard error. A failure is dropped: there is
    /// nowhere left to report it.
    public static func writeToStandardError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = try? writeAll(2, UnsafeRawBufferPointer(bytes)) }
    }

    /// Closes `descriptor`. On Linux the descriptor is gone even when close
    /// fails (EINTR included, so it is never retried) and nothing here can act
    /// on EIO; EBADF is a bug (a double close) and traps.
    public static func close(_ descriptor: Int32) {
        if CSystem.close(descriptor) == -1 {
            let code = csystem_errno()
            precondition(code != EBADF, "close(\(descriptor)): not an open descriptor")
        }
    }

    /// A pipe whose both ends are close-on-exec: (read end, write end).
    public static func pipe() throws(SystemError) -> (read: Int32, write: Int32) {
        var ends: (Int32, Int32) = (-1, -1)
        _ = try withUnsafeMutableBytes(of: &ends) { (raw) throws(SystemError) -> Int32 in
            try retrying("pipe2") { CSystem.pipe2(raw.baseAddress!.assumingMemoryBound(to: Int32.self), O_CLOEXEC) }
        }
        return (ends.0, ends.1)
    }

    /// Waits until one of `entries` is ready or `timeout` milliseconds (-1: forever) pass:
    /// how many entries have events. After EINTR the wait starts again with the same
    /// timeout; callers that keep a deadline check it when 0 comes back.
    public static func poll(_ entries: UnsafeMutableBufferPointer<pollfd>, timeout: Int32) throws(SystemError) -> Int {
        Int(try retrying("poll") { CSystem.poll(entries.baseAddress, nfds_t(entries.count), timeout) })
    }

    /// Sleeps `milliseconds` (less when a signal arrives).
    public static func sleep(milliseconds: Int32) {
        // With no descriptors poll can only time out (0) or be interrupted (EINTR):
        // both end the sleep, which callers repeat as they need.
        _ = CSystem.poll(nil, 0, milliseconds)
    }

    // MARK: Sockets

    /// A non-blocking, close-on-exec TCP socket of `family`.
    @inline(__always)
    static func socket(family: Int32) throws(SystemError) -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        return try retrying("socket") { CSystem.socket(family, type, 0) }
    }

    /// Sets an integer socket option.
    @inline(__always)
    static func setsockopt(_ descriptor: Int32, _ level: Int32, _ option: Int32, _ value: Int32) throws(SystemError) {
        var value = value
        _ = try retrying("setsockopt") {
            CSystem.setsockopt(descriptor, level, option, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// Reads an integer socket option (SO_ERROR: a non-blocking connect's outcome).
    @inline(__always)
    static func getsockopt(_ descriptor: Int32, _ level: Int32, _ option: Int32) throws(SystemError) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try retrying("getsockopt") { CSystem.getsockopt(descriptor, level, option, &value, &length) }
        return value
    }

    /// Starts connecting a non-blocking socket: true when connected at once, false
    /// while in progress (wait for POLLOUT, then read SO_ERROR). EINTR is "in
    /// progress" too: POSIX lets the connection go on, and a second connect
    /// would fail with EALREADY.
    @inline(__always)
    static func connect(_ descriptor: Int32, to address: SocketAddress) throws(SystemError) -> Bool {
        let result = address.withSockaddr { CSystem.connect(descriptor, $0, $1) }
        if result == 0 { return true }
        let code = csystem_errno()
        guard code == EINPROGRESS || code == EINTR else { throw SystemError("connect", errno: code) }
        return false
    }

    /// Sends some of `bytes` without raising SIGPIPE: the count, nil when the socket has no room.
    @inline(__always)
    static func send(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int? {
        try nonBlocking("send") { CSystem.send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Receives up to `buffer.count` bytes: the count (0 when the peer closed), nil when none are there.
    @inline(__always)
    static func recv(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int? {
        try nonBlocking("recv") { CSystem.recv(descriptor, buffer.baseAddress, buffer.count, 0) }
    }

    /// Binds `descriptor` to `address` (for a listening socket).
    static func bind(_ descriptor: Int32, to address: SocketAddress) throws(SystemError) {
        _ = try retrying("bind") { address.withSockaddr { CSystem.bind(descriptor, $0, $1) } }
    }

    /// Marks a bound socket as listening, with room for `backlog` connections not yet accepted.
    static func listen(_ descriptor: Int32, backlog: Int32) throws(SystemError) {
        _ = try retrying("listen") { CSystem.listen(descriptor, backlog) }
    }

    /// Takes one waiting connection as a non-blocking, close-on-exec socket; nil when
    /// none is waiting. Linux hands pending network errors of the new connection
    /// (ECONNABORTED, EPROTO, ENETDOWN...) to accept4 itself: the caller sees them
    /// thrown and takes the next one.
    static func accept(_ descriptor: Int32) throws(SystemError) -> Int32? {
        let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        return try nonBlocking("accept4") { CSystem.accept4(descriptor, nil, nil, flags) }
    }

    /// The port a socket is bound to (the kernel's choice after binding port 0).
    static func boundPort(_ descriptor: Int32) throws(SystemError) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutableBytes(of: &storage) { (raw) throws(SystemError) -> Int32 in
            try retrying("getsockname") {
                CSystem.getsockname(descriptor, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length)
            }
        }
        // sin_port and sin6_port sit at the same offset, in network byte order.
        let port = withUnsafeBytes(of: storage) { $0.load(fromByteOffset: 2, as: UInt16.self) }
        return Int(UInt16(bigEndian: port))
    }

    /// Ends the sending direction of a connected socket (the peer reads end of stream).
    static func shutdownWrites(_ descriptor: Int32) throws(SystemError) {
        _ = try retrying("shutdown") { CSystem.shutdown(descriptor, Int32(SHUT_WR)) }
    }

    /// Ignores SIGPIPE for the process: OpenSSL writes to sockets with plain write(2).
    @inline(__always)
    static func ignoreBrokenPipes() {
        setDisposition(of: SIGPIPE, to: csystem_sig_ign())
    }

    /// Gives SIGCHLD its default disposition. A process started with SIGCHLD ignored (a
    /// careless parent; ignored signals stay ignored across exec) has its children reaped by
    /// the kernel, so `waitpid` cannot tell how an exec credential plugin ended.
    public static func restoreDefaultChildSignal() {
        setDisposition(of: SIGCHLD, to: csystem_sig_dfl())
    }

    private static func setDisposition(of signal: Int32, to handler: __sighandler_t?) {
        // SIG_DFL is a null pointer, hence the optional. signal(2) fails (SIG_ERR, that is -1)
        // only for an invalid signal number.
        let previous = CSystem.signal(signal, handler)
        precondition(previous.map { unsafeBitCast($0, to: Int.self) } != -1, "signal(\(signal)) failed")
    }

    // MARK: Addresses

    /// The binary form of a numeric IPv4 address, or nil.
    @inline(__always)
    static func ipv4Address(_ text: String) -> in_addr? {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1 ? address : nil
    }

    /// The binary form of a numeric IPv6 address, or nil.
    @inline(__always)
    static func ipv6Address(_ text: String) -> in6_addr? {
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1 ? address : nil
    }

    /// The IPv4 and IPv6 addresses of `host`, in getaddrinfo's order.
    static func getaddrinfo(host: String, port: Int) throws(SystemError) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = CSystem.getaddrinfo(host, String(port), &hints, &list)
        if status == EAI_SYSTEM { throw SystemError("getaddrinfo", errno: csystem_errno()) }
        guard status == 0 else { throw SystemError("getaddrinfo", addressInfo: status) }
        defer { freeaddrinfo(list) }
        var found: [SocketAddress] = []
        var entry = list
        while let info = entry?.pointee {
            if let raw = info.ai_addr, info.ai_family == AF_INET || info.ai_family == AF_INET6 {
                var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
                var v4 = UnsafeRawPointer(raw).load(as: sockaddr_in.self).sin_addr
                var v6 = info.ai_family == AF_INET6 ? UnsafeRawPointer(raw).load(as: sockaddr_in6.self).sin6_addr : in6_addr()
                // Fails only for a too-small buffer or an unknown family, both excluded here.
                let written = info.ai_family == AF_INET
                    ? inet_ntop(AF_INET, &v4, &text, socklen_t(text.count))
                    : inet_ntop(AF_INET6, &v6, &text, socklen_t(text.count))
                if written != nil {
                    let numeric = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
                    if let address = info.ai_family == AF_INET
                        ? SocketAddress.ipv4(numeric, port: port) : SocketAddress.ipv6(numeric, port: port) {
                        found.append(address)
                    }
                }
            }
            entry = info.ai_next
        }
        return found
    }

    // MARK: Processes and signals

    /// Blocks `signals` for the process, so that only a signalfd sees them.
    public static func blockSignals(_ signals: [Int32]) throws(SystemError) {
        var set = signalSet(signals)
        _ = try retrying("sigprocmask") { CSystem.sigprocmask(SIG_BLOCK, &set, nil) }
    }

    /// A non-blocking, close-on-exec descriptor that becomes readable when one of `signals` is pending.
    public static func signalfd(_ signals: [Int32]) throws(SystemError) -> Int32 {
        var set = signalSet(signals)
        return try retrying("signalfd") { CSystem.signalfd(-1, &set, Int32(SFD_CLOEXEC | SFD_NONBLOCK)) }
    }

    /// Takes one pending signal from a signalfd: its number, nil when none is pending.
    public static func readSignal(_ descriptor: Int32) throws(SystemError) -> Int32? {
        var info = signalfd_siginfo()
        let count = try withUnsafeMutableBytes(of: &info) { (raw) throws(SystemError) -> Int? in
            try read(descriptor, into: raw)
        }
        guard let count else { return nil }
        // The kernel hands out whole records only.
        precondition(count == MemoryLayout<signalfd_siginfo>.size, "short read from a signalfd")
        return Int32(info.ssi_signo)
    }

    private static func signalSet(_ signals: [Int32]) -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        // sigaddset fails only for an invalid signal number.
        for signal in signals { precondition(sigaddset(&set, signal) == 0, "sigaddset(\(signal))") }
        return set
    }

    /// Starts `arguments` (the first is searched in PATH when it has no slash) with
    /// `environment` ("NAME=value" entries), standard input from /dev/null and
    /// output into the two descriptors. The child gets no other descriptor, no
    /// blocked signal and the default action for SIGPIPE, SIGTERM and SIGINT
    /// (this process blocks or ignores them, and a child would inherit that).
    /// Returns its pid.
    ///
    /// posix_spawn's helper calls only fill in what posix_spawnp reads; they
    /// return their error number rather than set errno.
    public static func spawn(_ arguments: [String], environment: [String], standardOutput: Int32,
                             standardError: Int32) throws(SystemError) -> pid_t {
        func check(_ result: Int32, _ call: String) throws(SystemError) {
            if result != 0 { throw SystemError(call, errno: result) }
        }
        // The destroy calls in the defers fail only for an uninitialized object.
        var actions = posix_spawn_file_actions_t()
        try check(posix_spawn_file_actions_init(&actions), "posix_spawn_file_actions_init")
        defer { posix_spawn_file_actions_destroy(&actions) }
        try check(posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0), "posix_spawn_file_actions_addopen")
        try check(posix_spawn_file_actions_adddup2(&actions, standardOutput, 1), "posix_spawn_file_actions_adddup2")
        try check(posix_spawn_file_actions_adddup2(&actions, standardError, 2), "posix_spawn_file_actions_adddup2")
        // Descriptors this process inherited without close-on-exec are not the child's business.
        try check(posix_spawn_file_actions_addclosefrom_np(&actions, 3), "posix_spawn_file_actions_addclosefrom_np")
        var attributes = posix_spawnattr_t()
        try check(posix_spawnattr_init(&attributes), "posix_spawnattr_init")
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = signalSet([])
        try check(posix_spawnattr_setsigmask(&attributes, &noSignals), "posix_spawnattr_setsigmask")
        var defaults = signalSet([SIGPIPE, SIGTERM, SIGINT])
        try check(posix_spawnattr_setsigdefault(&attributes, &defaults), "posix_spawnattr_setsigdefault")
        try check(posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)),
                  "posix_spawnattr_setflags")
        var pid: pid_t = 0
        let spawned = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp) }
        }
        try check(spawned, "posix_spawnp")
        return pid
    }

    /// Calls `body` with a NULL-terminated array of C copies of `strings`, freed afterwards.
    private static func withCStrings<T>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> T) -> T {
        var pointers = strings.map { strdup($0) }
        pointers.append(nil)
        defer { pointers.forEach { free($0) } }
        return body(pointers)
    }

    /// How child `pid` ended, nil while it runs: the signal that killed it, or 0
    /// and its exit status. Throws ECHILD when the child is not this process's to
    /// wait for (for example when SIGCHLD is ignored and the kernel reaped it):
    /// how it ended is then unknown, never a success.
    public static func waitpid(_ pid: pid_t) throws(SystemError) -> (signal: Int32, exitStatus: Int32)? {
        var status: Int32 = 0
        let waited = try retrying("waitpid") { CSystem.waitpid(pid, &status, WNOHANG) }
        guard waited == pid else { return nil }
        // WTERMSIG / WEXITSTATUS, which Swift does not import (they are macros).
        return (status & 0x7F, (status >> 8) & 0xFF)
    }

    /// Sends `signal` to process `pid`.
    public static func kill(_ pid: pid_t, _ signal: Int32) throws(SystemError) {
        _ = try retrying("kill") { CSystem.kill(pid, signal) }
    }

    /// Ends the process with `status`.
    public static func exit(_ status: Int32) -> Never {
        CSystem.exit(status)
    }

    // MARK: Environment

    /// The command-line arguments after the program's name.
    public static func arguments() -> [String] {
        #if hasFeature(Embedded)
        // Embedded Swift has no CommandLine: Embedded/runtime.c keeps what glibc hands over before main.
        let argv = nw_embedded_argv()
        return (0..<Int(nw_embedded_argc())).dropFirst().map { String(cString: argv![$0]!) }
        #else
        return Array(CommandLine.arguments.dropFirst())
        #endif
    }

    /// The value of environment variable `name`, or nil.
    public static func getenv(_ name: String) -> String? {
        CSystem.getenv(name).map { String(cString: $0) }
    }

    /// The whole environment as "NAME=value" entries.
    public static func environment() -> [String] {
        var entries: [String] = []
        // NULL after clearenv(3).
        guard var cursor = csystem_environ() else { return entries }
        while let entry = cursor.pointee {
            entries.append(String(cString: entry))
            cursor += 1
        }
        return entries
    }

    /// Whether this process may read `path` (access(2) with R_OK; any failure is a no).
    public static func isReadable(_ path: String) -> Bool {
        access(path, R_OK) == 0
    }

    // MARK: Time

    /// Nanoseconds on the monotonic clock.
    @inline(__always)
    public static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        // Fails only for an unknown clock or a bad pointer.
        precondition(clock_gettime(CLOCK_MONOTONIC, &time) == 0, "clock_gettime(CLOCK_MONOTONIC)")
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Wall-clock time since the epoch.
    public static func wallClock() -> (seconds: Int, nanoseconds: Int) {
        var time = timespec()
        precondition(clock_gettime(CLOCK_REALTIME, &time) == 0, "clock_gettime(CLOCK_REALTIME)")
        return (time.tv_sec, time.tv_nsec)
    }

    /// The UTC calendar time of `seconds` since the epoch.
    public static func utcTime(_ seconds: Int) -> CalendarTime {
        var time = time_t(seconds)
        var parts = tm()
        // Fails only when the year does not fit in an int.
        precondition(gmtime_r(&time, &parts) != nil, "gmtime_r(\(seconds))")
        return (Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    /// Seconds since the epoch of a UTC calendar time. As timegm(3), out-of-range
    /// fields roll over (31 April is 1 May).
    public static func secondsSinceEpoch(_ time: CalendarTime) -> Int {
        var parts = tm()
        parts.tm_year = Int32(time.year - 1900)
        parts.tm_mon = Int32(time.month - 1)
        parts.tm_mday = Int32(time.day)
        parts.tm_hour = Int32(time.hour)
        parts.tm_min = Int32(time.minute)
        parts.tm_sec = Int32(time.second)
        return Int(timegm(&parts))
    }

    /// CPU time (user and system) and peak resident memory of this process.
    public static func resourceUsage() -> (cpuMicroseconds: Int, maxResidentKilobytes: Int) {
        var usage = rusage()
        // Fails only for a bad pointer or an unknown `who`.
        precondition(getrusage(RUSAGE_SELF.rawValue, &usage) == 0, "getrusage")
        let cpu = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1_000_000 + usage.ru_utime.tv_usec + usage.ru_stime.tv_usec
        return (cpu, usage.ru_maxrss)
    }

    // MARK: Bytes

    /// The index of the first `byte` in `bytes[start...]`, or nil. memchr reads many
    /// bytes per step, where a Swift loop reads one.
    static func firstIndex(of byte: UInt8, in bytes: ArraySlice<UInt8>, from start: Int) -> Int? {
        guard start < bytes.endIndex else { return nil }
        return bytes[start...].withUnsafeBytes { raw -> Int? in
            guard let base = raw.baseAddress, let found = memchr(base, Int32(byte), raw.count) else { return nil }
            return start + base.distance(to: UnsafeRawPointer(found))
        }
    }

    /// `bytes` as a new array, in one copy: `Array(slice)` copies one byte at a time at -Osize.
    static func copy(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        guard !bytes.isEmpty else { return [] }
        return bytes.withUnsafeBytes { source in
            [UInt8](unsafeUninitializedCapacity: source.count) { destination, count in
                UnsafeMutableRawBufferPointer(destination).copyMemory(from: source)
                count = source.count
            }
        }
    }
}

"""The watcher's own footprint (issue 5): `scripts/bench-watcher.sh` runs this.

    python3 bench/watcher.py --binary NAME=PATH [--binary NAME=PATH]... --out DIR
                             [--idle-seconds 60] [--flips 100] [--strace-seconds 20]
                             [--env NAME KEY=VALUE]... [--cold]

--env adds a setting to the watcher named NAME (for example `--env server
HTTP_PORT=18081`, with `--binary server=PATH`). --cold evicts each binary from
the page cache (posix_fadvise DONTNEED) before each start: a freshly written
binary otherwise measures higher RSS.

Against the project's test servers (Tests/integration/servers: the fake API
server over TLS with the watcher's least-privilege token, and the usage
server), for each binary:

    idle       the default 1 s interval for --idle-seconds at a steady 50 %:
               CPU (schedstat of every thread, and utime+stime), RSS every
               second (peak and steady), open descriptors, threads, checks made
               and API requests; then `strace -f -c -p` for --strace-seconds
               gives the system calls per check.
    reaction   a 100 ms interval; --flips times the usage goes from 40 % to 90 %
               (threshold 75 %) at a random moment, and the time from just
               before the usage server changed to the arrival at the API server
               of the PATCH that sets the label to "no" is recorded (and the
               way back to "yes" as well). p50, p90, p99 and max.

Writes DIR/watcher.json and DIR/watcher.md and prints the latter.
"""
import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "Tests", "integration"))
from support import pki  # noqa: E402
from support.servers import start_fake_apiserver_program, start_usage_server_program  # noqa: E402
from support.watcher import LABEL, POD, watcher_env  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# The PHP tool's Helm chart (what this replaces): requests 64Mi, limits 128Mi and 100m CPU.
PHP_CHART = {"memory_request_mib": 64, "memory_limit_mib": 128, "cpu_limit_millicores": 100}


class Watcher:
    """A running network-watcher whose standard error goes to a file."""

    def __init__(self, binary, env, prefix=()):
        """`prefix`: a command that runs the binary (valgrind and its options)."""
        self.log = tempfile.NamedTemporaryFile(prefix="watcher-", suffix=".log", delete=False)
        self.process = subprocess.Popen([*prefix, binary], env=env, stdin=subprocess.DEVNULL,
                                        stdout=self.log, stderr=self.log)
        self.pid = self.process.pid

    def stop(self, timeout=10):
        """SIGTERM, then the rusage of the whole life (wait4); SIGKILL after `timeout` s."""
        usage = None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                pid, status, usage = os.wait4(self.pid, os.WNOHANG)
                if pid:
                    self.process.returncode = os.waitstatus_to_exitcode(status)
                    break
                time.sleep(0.01)
            else:
                self.process.kill()
                _, _, usage = os.wait4(self.pid, 0)
        self.log.close()
        os.unlink(self.log.name)
        return usage

    def text(self):
        with open(self.log.name, errors="replace") as f:
            return f.read()


def cpu_ns(pid):
    """CPU time of every thread of `pid` from schedstat, in ns (not tick-rounded)."""
    total = 0
    for task in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, task)) as f:
            total += int(f.read().split()[0])
    return total


def ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime


def status(pid):
    values = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            name, _, value = line.partition(":")
            values[name] = value.strip()
    return {"rss_kb": int(values["VmRSS"].split()[0]), "hwm_kb": int(values["VmHWM"].split()[0]),
            "threads": int(values["Threads"]), "fds": len(os.listdir("/proc/%d/fd" % pid))}


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for " + what)
        time.sleep(0.01)


def usage_requests(usage):
    return usage.state()["usage_requests"]


SETTINGS = {}  # binary path: extra settings (--env)
COLD = [False]


def evict(path):
    """Drops `path`'s pages from the page cache, so the run starts from a cold cache."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)  # dirty pages (a binary just copied) cannot be dropped
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def start(binary, api, usage, interval):
    env = watcher_env(api, usage, CHECKING_INTERVAL=str(interval), MEMORY_PERCENT="75", **SETTINGS.get(binary, {}))
    if COLD[0]:
        evict(binary)
    watcher = Watcher(binary, env)
    first = usage_requests(usage)
    try:
        wait_until(lambda: usage_requests(usage) > first + 1, 15, "the watcher's first checks")
    except RuntimeError:
        watcher.stop()
        raise RuntimeError("the watcher made no checks; its log:\n" + watcher.text()[-2000:])
    return watcher


def idle(binary, api, usage, seconds, strace_seconds):
    usage.set(percent=50)
    api.add_pod(POD, labels={"app": "echo", LABEL: "yes"})
    started = time.monotonic()
    watcher = start(binary, api, usage, 1)
    startup_s = time.monotonic() - started
    try:
        time.sleep(2)  # past start-up: the pod read, the first label check
        api.clear_requests()
        checks0, cpu0, ticks0, t0 = usage_requests(usage), cpu_ns(watcher.pid), ticks(watcher.pid), time.monotonic()
        samples = []
        for _ in range(int(seconds)):
            time.sleep(max(0.0, t0 + len(samples) + 1 - time.monotonic()))
            samples.append(status(watcher.pid))
        elapsed = time.monotonic() - t0
        checks = usage_requests(usage) - checks0
        cpu = (cpu_ns(watcher.pid) - cpu0) / 1e9
        tick_cpu = (ticks(watcher.pid) - ticks0) / CLOCK_TICKS
        api_requests = len(api.requests())

        with tempfile.NamedTemporaryFile(mode="r", suffix=".strace") as trace:
            checks1 = usage_requests(usage)
            tracer = subprocess.Popen(["strace", "-f", "-c", "-p", str(watcher.pid), "-o", trace.name],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(strace_seconds)
            tracer.send_signal(signal.SIGINT)
            tracer.wait(10)
            traced_checks = usage_requests(usage) - checks1
            calls, total = {}, 0
            for line in trace.read().splitlines():
                fields = line.split()
                if len(fields) >= 5 and fields[0].replace(".", "").isdigit():
                    if fields[-1] == "total":
                        total = int(fields[3])
                    else:
                        calls[fields[-1]] = int(fields[3])
    finally:
        usage_total = watcher.stop()
    rss = [s["rss_kb"] for s in samples]
    return {
        "seconds": round(elapsed, 1), "startup_to_checking_s": round(startup_s, 3),
        "checks": checks, "api_requests": api_requests,
        "cpu_s": round(cpu, 4), "cpu_s_ticks": round(tick_cpu, 3),
        "cpu_millicores": round(cpu / elapsed * 1000, 2), "cpu_us_per_check": round(cpu / max(1, checks) * 1e6, 1),
        "rss_peak_kb": max(s["hwm_kb"] for s in samples), "rss_steady_kb": int(statistics.median(rss)),
        "rss_first_kb": rss[0], "rss_last_kb": rss[-1],
        "fds_max": max(s["fds"] for s in samples), "fds_last": samples[-1]["fds"],
        "threads_max": max(s["threads"] for s in samples),
        "syscalls_per_check": round(total / max(1, traced_checks), 1), "traced_checks": traced_checks,
        "syscalls_by_name_per_check": {name: round(count / max(1, traced_checks), 2)
                                       for name, count in sorted(calls.items(), key=lambda kv: -kv[1])},
        # wait4's ru_maxrss is not used: it starts from this interpreter's RSS (fork
        # copies it), so the peak is VmHWM, read while the watcher runs.
        "life_cpu_s": round(usage_total.ru_utime + usage_total.ru_stime, 3) if usage_total else None,
    }


def patch_time(api, value, since):
    """Arrival time of the first PATCH after `since` that sets the label to `value`, or None."""
    for entry in api.requests(r"/pods/%s$" % POD):
        if entry["method"] != "PATCH" or entry["time"] < since:
            continue
        labels = ((entry.get("body") or {}).get("metadata") or {}).get("labels") or {}
        if labels.get(LABEL) == value:
            return entry["time"]
    return None


def reaction(binary, api, usage, flips, interval=0.1):
    usage.set(percent=40)
    api.add_pod(POD, labels={"app": "echo", LABEL: "yes"})
    watcher = start(binary, api, usage, interval)
    to_no, to_yes, control_ms, failures = [], [], [], []
    try:
        for _ in range(flips):
            api.clear_requests()
            for value, percent, series in (("no", 90, to_no), ("yes", 40, to_yes)):
                time.sleep(random.uniform(interval, 2 * interval))  # a random phase of the watcher's tick
                before = time.time()
                usage.set(percent=percent)
                control_ms.append((time.time() - before) * 1000)
                found = []
                try:
                    wait_until(lambda: found.append(patch_time(api, value, before)) or found[-1], 5,
                               "the label to become " + value)
                    series.append((found[-1] - before) * 1000)
                except RuntimeError as error:
                    failures.append(str(error))
                    break
    finally:
        watcher.stop()

    def spread(values):
        if not values:
            return None
        ordered = sorted(values)

        def pct(p):
            return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))], 1)
        return {"n": len(values), "p50": pct(50), "p90": pct(90), "p99": pct(99), "max": round(ordered[-1], 1),
                "min": round(ordered[0], 1)}
    return {"interval_s": interval, "to_no_ms": spread(to_no), "to_yes_ms": spread(to_yes),
            "usage_control_roundtrip_ms": spread(control_ms), "failures": failures}


def render(results, meta):
    lines = ["Idle: the default 1 s interval for %d s at 50 %% (threshold 75 %%), API server over TLS."
             % meta["idle_seconds"], "",
             "| binary | CPU s in %d s | CPU millicores | CPU us/check | peak RSS MiB | steady RSS MiB "
             "| open fds | threads | syscalls/check | checks | API requests |" % meta["idle_seconds"],
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        i = r["idle"]
        lines.append("| %s | %.3f | %.2f | %.0f | %.1f | %.1f | %d | %d | %.1f | %d | %d |" % (
            name, i["cpu_s"], i["cpu_millicores"], i["cpu_us_per_check"], i["rss_peak_kb"] / 1024,
            i["rss_steady_kb"] / 1024, i["fds_max"], i["threads_max"], i["syscalls_per_check"],
            i["checks"], i["api_requests"]))
    lines += ["", "System calls per check (strace -f -c -p over %d s):" % meta["strace_seconds"], ""]
    for name, r in results.items():
        calls = r["idle"]["syscalls_by_name_per_check"]
        lines.append("- %s: %s" % (name, ", ".join("%s %.1f" % kv for kv in calls.items() if kv[1] >= 0.05)))
    lines += ["", "Reaction: a 100 ms interval; usage 40 % -> 90 % at a random moment, until the PATCH "
              "setting \"no\" reaches the API server (and back to \"yes\" at 40 %).", "",
              "| binary | flips | to no p50 ms | p90 | p99 | max | to yes p50 ms | p99 | failures |",
              "|---|---|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        x, y = r["reaction"]["to_no_ms"] or {}, r["reaction"]["to_yes_ms"] or {}
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %d |" % (
            name, x.get("n", 0), x.get("p50"), x.get("p90"), x.get("p99"), x.get("max"),
            y.get("p50"), y.get("p99"), len(r["reaction"]["failures"])))
    control = [r["reaction"]["usage_control_roundtrip_ms"] for r in results.values()
               if r["reaction"]["usage_control_roundtrip_ms"]]
    if control:
        lines += ["", "The change is timed from just before the usage server was told; telling it took "
                  "p50 %.1f ms, which is in these figures." % control[0]["p50"]]
    lines += ["", "The PHP tool's chart: requests %d Mi memory; limits %d Mi memory and %dm CPU."
              % (PHP_CHART["memory_request_mib"], PHP_CHART["memory_limit_mib"], PHP_CHART["cpu_limit_millicores"])]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", action="append", required=True, metavar="NAME=PATH")
    parser.add_argument("--out", required=True)
    parser.add_argument("--idle-seconds", type=int, default=60)
    parser.add_argument("--strace-seconds", type=int, default=20)
    parser.add_argument("--flips", type=int, default=100)
    parser.add_argument("--env", action="append", nargs=2, default=[], metavar=("NAME", "KEY=VALUE"))
    parser.add_argument("--cold", action="store_true")
    args = parser.parse_args()
    COLD[0] = args.cold
    paths = dict(item.split("=", 1) for item in args.binary)
    for name, setting in args.env:
        key, value = setting.split("=", 1)
        SETTINGS.setdefault(paths[name], {})[key] = value

    folder = tempfile.mkdtemp(prefix="bench-watcher-pki-")
    ca = pki.make_ca(folder)
    server = pki.make_cert(folder, "server", ca)
    api = start_fake_apiserver_program({"ca": ca, "server": server})
    usage = start_usage_server_program()
    results = {}
    try:
        for item in args.binary:
            name, path = item.split("=", 1)
            print("watcher %s: idle for %d s" % (name, args.idle_seconds + args.strace_seconds), flush=True)
            results[name] = {"binary": path, "idle": idle(path, api, usage, args.idle_seconds, args.strace_seconds)}
            print("watcher %s: %d flips" % (name, args.flips), flush=True)
            results[name]["reaction"] = reaction(path, api, usage, args.flips)
    finally:
        api.stop()
        usage.stop()
    meta = {"idle_seconds": args.idle_seconds, "strace_seconds": args.strace_seconds, "flips": args.flips,
            "php_chart": PHP_CHART, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "watcher.json"), "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    text = render(results, meta)
    with open(os.path.join(args.out, "watcher.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()

"""Runs the benchmark clients interleaved against a running nginx and records every run.

    python3 bench/run.py --plain-url URL --tls-url URL --ca FILE --out DIR
                         [--n 20000] [--m 500] [--reps 5] [--clients a,b,...]
                         [--skip NAME=REASON]... [--urlsession-no-tls REASON]

scripts/bench.sh starts nginx, builds the clients and calls this. Each client is
a program `CLIENT MODE N URL [CA-FILE]` that prints one line
`client=NAME mode=MODE n=N cpu_us=... maxrss_kb=... first_response_ms=... checksum=...`
with its own getrusage(RUSAGE_SELF). For every repetition the clients run in
the same order (A B C ... A B C ...), phase after phase:

    baseline   N=0 in each mode (process start-up and exit, to subtract)
    plain      N keep-alive GETs over HTTP
    tls        N keep-alive GETs over TLS
    tlsnew     M GETs, each on a new TLS connection
    oneshot    one plain GET, timed from fork to exit by bench/c/launch.c

Every run is appended to DIR/runs.jsonl as it ends; DIR/table.md and the
terminal get the table from bench/report.py.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import report  # noqa: E402

RESULT = re.compile(r"client=(?P<client>\S+) mode=(?P<mode>\S+) n=(?P<n>\d+) cpu_us=(?P<cpu_us>\d+) "
                    r"maxrss_kb=(?P<maxrss_kb>\d+) first_response_ms=(?P<first_ms>[0-9.eE+-]+)"
                    r"(?: checksum=(?P<checksum>[0-9.eE+-]+))?")
PERCENT = 42.5  # what nginx serves as memory.percent (bench/nginx.conf.in)
RUN_TIMEOUT = 600  # seconds for one run, whatever N is


class Client:
    """How to start one benchmark client; `binary` is the file whose stripped size is reported."""

    def __init__(self, name, command, binary=None, tls_wrapper=None, note=""):
        self.name = name
        self.command = command
        self.binary = binary
        self.tls_wrapper = tls_wrapper
        self.note = note

    def argv(self, mode, count, url, ca):
        argv = [*self.command, mode, str(count), url]
        if mode != "plain":
            argv.append(ca)
            if self.tls_wrapper:
                argv = self.tls_wrapper(ca) + argv
        return argv


def urlsession_wrapper(ca):
    # FoundationNetworking always gives curl the system CA bundle; a private
    # mount namespace puts the test CA there for this one process.
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            'mount --bind "$0" /etc/ssl/certs/ca-certificates.crt && exec "$@"', ca]


def all_clients():
    build = os.path.join(HERE, ".build-bin")
    httplite = os.environ.get("BENCH_HTTPLITE") or os.path.join(build, "httplite-embedded")
    previous = os.environ.get("BENCH_HTTPLITE_PREVIOUS")
    static = os.path.join(HERE, ".build-httplite-static", "release", "httplite")
    dynamic = os.path.join(ROOT, ".build", "release", "httplite")
    urlsession = os.path.join(HERE, ".build-urlsession", "release", "urlsession-bench")
    ahc = os.path.join(HERE, ".build-asynchttpclient", "release", "ahc-bench")
    # The previous build comes first after the reference, and only when named.
    earlier = [Client("httplite-previous", [previous, "bench"], previous,
                      note="the shipped build of an earlier commit (BENCH_HTTPLITE_PREVIOUS)")] if previous else []
    return [
        Client("httplite", [httplite, "bench"], httplite, note="scripts/build-embedded.sh --product httplite, as shipped"),
        *earlier,
        Client("httplite-static", [static, "bench"], static, note="normal Swift, static executable, -Osize"),
        Client("httplite-dynamic", [dynamic, "bench"], dynamic, note="swift build -c release"),
        Client("raw-c", [os.path.join(build, "raw-c")], os.path.join(build, "raw-c"),
               note="sockets + OpenSSL, the floor"),
        Client("libcurl", [os.path.join(build, "libcurl")], os.path.join(build, "libcurl")),
        Client("go-nethttp", [os.path.join(build, "go-nethttp")], os.path.join(build, "go-nethttp"),
               note="CGO_ENABLED=0, static"),
        Client("urlsession", [urlsession], urlsession, tls_wrapper=urlsession_wrapper,
               note="FoundationNetworking (libcurl)"),
        Client("asynchttpclient", [ahc], ahc, note="SwiftNIO + BoringSSL"),
        Client("python-urllib3", [sys.executable, os.path.join(HERE, "python", "urllib3_client.py")],
               note="interpreter"),
        Client("php-curl", ["php", os.path.join(HERE, "php", "curl_client.php")], note="interpreter"),
    ]


LAUNCH = os.path.join(HERE, ".build-bin", "launch")


def spawn_and_wait(argv, timeout):
    """Runs argv through bench/c/launch.c; returns (exit status, launch's figures, stdout, stderr).

    The launcher forks the client from a small static process, so the client's
    ru_maxrss is its own and not this interpreter's, and times it from fork to exit.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r") as result:
        status = subprocess.run([LAUNCH, result.name, str(timeout), *argv], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err).returncode
        out.seek(0)
        err.seek(0)
        launched = dict(item.split("=") for item in result.read().split())
        return status, {key: int(value) for key, value in launched.items()}, \
            out.read().decode(errors="replace"), err.read().decode(errors="replace")


def run_one(client, phase, mode, count, args):
    url = args.plain_url if mode == "plain" else args.tls_url
    argv = client.argv(mode, count, url, args.ca)
    status, launched, out, err = spawn_and_wait(argv, RUN_TIMEOUT)
    record = {"client": client.name, "phase": phase, "mode": mode, "n": count,
              "wall_s": launched.get("wall_us", 0) / 1e6, "wait4_cpu_us": launched.get("cpu_us"),
              "wait4_maxrss_kb": launched.get("maxrss_kb")}
    match = RESULT.search(out)
    if status != 0 or not match:
        last = (err or out).strip().splitlines()
        record["error"] = "exit %s: %s" % (status, last[-1] if last else "no output")
        return record
    record.update(cpu_us=int(match["cpu_us"]), maxrss_kb=int(match["maxrss_kb"]),
                  first_ms=float(match["first_ms"]))
    checksum = float(match["checksum"] or "nan")
    if abs(checksum - PERCENT * count) > 1e-6 * max(1, count):
        record["error"] = "checksum %s, expected %s: the client did not read every percent" % (
            checksum, PERCENT * count)
    return record


def stripped_size(path):
    if not path or not os.path.exists(path):
        return None
    with tempfile.TemporaryDirectory() as folder:
        copy = os.path.join(folder, "binary")
        shutil.copy(path, copy)
        subprocess.run(["strip", copy], check=True, stderr=subprocess.DEVNULL)
        return os.path.getsize(copy)


def linked_libraries(path):
    if not path or not os.path.exists(path):
        return []
    listing = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
    return [line.split()[0] for line in listing.splitlines()
            if "=>" in line or line.strip().startswith("/")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plain-url", required=True)
    parser.add_argument("--tls-url", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--m", type=int, default=500)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--clients", default="")
    parser.add_argument("--skip", action="append", default=[], metavar="NAME=REASON")
    parser.add_argument("--urlsession-no-tls", default="", metavar="REASON")
    parser.add_argument("--command", default="", help="the command line, for the report")
    args = parser.parse_args()

    known = all_clients()
    wanted = [name for name in args.clients.split(",") if name] or [c.name for c in known]
    skipped = dict(item.split("=", 1) for item in args.skip)
    clients = [c for c in known if c.name in wanted and c.name not in skipped]
    for name in wanted:
        if name in skipped:
            print("skipped %s: %s" % (name, skipped[name]), flush=True)
    unknown = set(wanted) - {c.name for c in known}
    if unknown:
        sys.exit("unknown clients: %s" % ", ".join(sorted(unknown)))

    os.makedirs(args.out, exist_ok=True)
    runs_path = os.path.join(args.out, "runs.jsonl")
    meta = {"n": args.n, "m": args.m, "reps": args.reps, "command": args.command,
            "skipped": skipped, "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "load_at_start": os.getloadavg(),
            "clients": {}}
    for client in clients:
        meta["clients"][client.name] = {"note": client.note, "stripped_bytes": stripped_size(client.binary),
                                        "libraries": linked_libraries(client.binary)}
    if args.urlsession_no_tls and "urlsession" in meta["clients"]:
        meta["clients"]["urlsession"]["no_tls"] = args.urlsession_no_tls
        print("urlsession: TLS modes skipped: %s" % args.urlsession_no_tls, flush=True)

    phases = [("baseline", "plain", 0), ("baseline", "tls", 0), ("baseline", "tlsnew", 0),
              ("plain", "plain", args.n), ("tls", "tls", args.n), ("tlsnew", "tlsnew", args.m),
              ("oneshot", "plain", 1)]
    started = time.monotonic()
    with open(runs_path, "w") as runs:
        for rep in range(args.reps):
            for phase, mode, count in phases:
                for client in clients:
                    if mode != "plain" and client.name == "urlsession" and args.urlsession_no_tls:
                        continue
                    record = run_one(client, phase, mode, count, args)
                    record["rep"] = rep
                    runs.write(json.dumps(record) + "\n")
                    runs.flush()
                    if "error" in record:
                        print("%s %s n=%d failed: %s" % (client.name, mode, count, record["error"]), flush=True)
            print("repetition %d of %d done after %.0f s" % (rep + 1, args.reps, time.monotonic() - started),
                  flush=True)
    meta["seconds"] = round(time.monotonic() - started, 1)
    meta["load_at_end"] = os.getloadavg()
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)

    text = report.render(args.out)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()

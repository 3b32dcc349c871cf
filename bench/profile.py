"""Counts, rather than times, what each client does per request: `scripts/bench.sh --profile`.

    python3 bench/profile.py --plain-url URL --tls-url URL --ca FILE --out DIR
                             [--clients a,b,...] [--skip NAME=REASON]...

For every client and mode it runs the client twice, with two request counts,
under `strace -f -c` and under `valgrind --tool=callgrind`, and divides the
difference by the difference of the counts, so start-up and exit drop out:

    syscalls/req    system calls (all threads), and the three most frequent
    instr/req       user-space instructions executed (all threads, all libraries)
    allocs/req      calls to malloc, calloc and realloc

Unlike CPU time these numbers do not move with the load on a shared machine.
Kernel work is not in instr/req; the system calls stand for it.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402

COUNTS = {"plain": (300, 900), "tls": (300, 900), "tlsnew": (10, 30)}
ALLOCATORS = {"malloc", "calloc", "realloc"}
TIMEOUT = 900


def traced(client, mode, count, args, tool):
    url = args.plain_url if mode == "plain" else args.tls_url
    argv = [*client.command, mode, str(count), url] + ([args.ca] if mode != "plain" else [])
    prefix = client.tls_wrapper(args.ca) if (mode != "plain" and client.tls_wrapper) else []
    return prefix + tool + argv


def syscalls(client, mode, count, args):
    with tempfile.NamedTemporaryFile(mode="r") as out:
        argv = traced(client, mode, count, args, ["strace", "-f", "-c", "-o", out.name])
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=TIMEOUT)
        counts = {}
        for line in out.read().splitlines():
            fields = line.split()
            # % time, seconds, usecs/call, calls, [errors], syscall
            if len(fields) >= 5 and re.fullmatch(r"[\d.]+", fields[0]) and fields[-1] != "total":
                counts[fields[-1]] = int(fields[3])
        return counts


def instructions(client, mode, count, args):
    with tempfile.TemporaryDirectory() as folder:
        if client.binary:
            # valgrind 3.19 cannot read the DWARF 5 that Swift 6 writes (it gives up on
            # ahc-bench); a copy without debug sections keeps the symbols it needs.
            copy = os.path.join(folder, os.path.basename(client.binary))
            subprocess.run(["strip", "--strip-debug", "-o", copy, client.binary], check=True)
            client = run.Client(client.name, [copy, *client.command[1:]], copy, client.tls_wrapper)
        path = os.path.join(folder, "callgrind.out")
        argv = traced(client, mode, count, args,
                      ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + path + ".%p"])
        # Go's signal-based preemption can crash a program under valgrind.
        env = dict(os.environ, GODEBUG="asyncpreemptoff=1")
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=TIMEOUT,
                       env=env)
        total, allocs = 0, 0
        for name in os.listdir(folder):
            if not name.startswith("callgrind.out"):
                continue
            a, b = read_callgrind(os.path.join(folder, name))
            total += a
            allocs += b
        return total, allocs


def read_callgrind(path):
    """(instructions, allocator calls) of one callgrind output file (name compression aware)."""
    names, callee, total, allocs = {}, None, 0, 0
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                total = int(line.split()[1])
            elif line.startswith("cfn="):
                match = re.match(r"cfn=\((\d+)\)(?: (.*))?", line.strip())
                if match:
                    if match.group(2):
                        names[match.group(1)] = match.group(2)
                    callee = names.get(match.group(1))
            elif line.startswith("fn="):
                match = re.match(r"fn=\((\d+)\)(?: (.*))?", line.strip())
                if match and match.group(2):
                    names[match.group(1)] = match.group(2)
            elif line.startswith("calls=") and callee in ALLOCATORS:
                allocs += int(line[6:].split()[0])
    return total, allocs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plain-url", required=True)
    parser.add_argument("--tls-url", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--clients", default="")
    parser.add_argument("--skip", action="append", default=[], metavar="NAME=REASON")
    parser.add_argument("--urlsession-no-tls", default="")
    args = parser.parse_args()

    skipped = dict(item.split("=", 1) for item in args.skip)
    wanted = [name for name in args.clients.split(",") if name]
    clients = [c for c in run.all_clients()
               if c.name not in skipped and (not wanted or c.name in wanted)]
    results = {}
    for client in clients:
        results[client.name] = {}
        for mode, (low, high) in COUNTS.items():
            if mode != "plain" and client.name == "urlsession" and args.urlsession_no_tls:
                continue
            figures = {}
            try:
                a, b = syscalls(client, mode, low, args), syscalls(client, mode, high, args)
                per = {name: (b.get(name, 0) - a.get(name, 0)) / (high - low) for name in set(a) | set(b)}
                figures["syscalls"] = sum(per.values())
                figures["top"] = sorted(((v, k) for k, v in per.items() if v >= 0.05), reverse=True)[:3]
            except (subprocess.SubprocessError, OSError) as error:
                figures["syscalls_error"] = str(error)
            try:
                (i1, m1), (i2, m2) = instructions(client, mode, low, args), instructions(client, mode, high, args)
                figures["instructions"] = (i2 - i1) / (high - low)
                # Go allocates from its own heap, not malloc.
                figures["allocs"] = None if client.name == "go-nethttp" else (m2 - m1) / (high - low)
            except (subprocess.SubprocessError, OSError) as error:
                figures["instructions_error"] = str(error)
            results[client.name][mode] = figures
            print("profiled %s %s" % (client.name, mode), file=sys.stderr, flush=True)

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "profile.json"), "w") as f:
        json.dump(results, f, indent=1)
    text = render(results)
    with open(os.path.join(args.out, "profile.md"), "w") as f:
        f.write(text)
    print(text)


def render(results):
    def cell(figures, key, scale=1.0):
        if not figures:
            return "-"
        if key not in figures:
            return "failed"
        if figures[key] is None:
            return "n/a"
        value = figures[key] / scale
        return "%.1f" % value if value < 100 else "{:,.0f}".format(value)

    def top(figures):
        if not figures or "top" not in figures:
            return "-"
        return ", ".join("%s %.1f" % (name, value) for value, name in figures["top"])

    lines = ["Per keep-alive request (plain, TLS) and per new TLS connection; counted, not timed.", "",
             "| client | syscalls plain | syscalls TLS | syscalls new TLS | instr plain | instr TLS "
             "| instr new TLS (k) | allocs plain | allocs TLS | allocs new TLS |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for client, modes in results.items():
        p, t, n = modes.get("plain"), modes.get("tls"), modes.get("tlsnew")
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            client, cell(p, "syscalls"), cell(t, "syscalls"), cell(n, "syscalls"),
            cell(p, "instructions"), cell(t, "instructions"), cell(n, "instructions", 1000),
            cell(p, "allocs"), cell(t, "allocs"), cell(n, "allocs")))
    lines += ["", "failed: the tool could not run the client (valgrind 3.19 crashes inside SwiftNIO's threads);"
              " n/a: Go allocates from its own heap, not malloc.",
              "", "Most frequent system calls per request:", ""]
    for client, modes in results.items():
        lines.append("- %s: plain %s; TLS %s; new TLS %s" % (
            client, top(modes.get("plain")), top(modes.get("tls")), top(modes.get("tlsnew"))))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()

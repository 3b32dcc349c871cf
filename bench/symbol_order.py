"""The functions a representative run of the watcher executes, hot first: `scripts/symbol-order.sh` runs this.

    python3 bench/symbol_order.py --binary PATH --out FILE [--map LLD-MAP] [--seconds 10] [--flips 3]

PATH is the static build before `strip` (.build-static/release/network-watcher),
whose symbol table names every function. Against the project's test servers
(the fake API server over TLS, the usage server) it runs that binary under
`valgrind --tool=callgrind` at a 100 ms interval with the HTTP_PORT server on:
start-up, --flips label changes (usage 40 % -> 90 % -> 40 %, each waited for
at the API server), then for --seconds the checks with GETs of /healthz,
/readyz and /metrics every second, then SIGTERM (the pod marked "no", the
exit). callgrind counts every function that runs, cold ones included.

FILE gets their names as the symbol table spells them (mangled: what lld's
--symbol-ordering-file matches), the most instructions first. glibc picks
string functions by CPU (IFUNC), and valgrind's CPU lacks AVX-512, so every
variant of a string function that ran is listed next to it: the one the
machine's CPU picks is among them. lld orders input sections: with --map (lld's
map of the link that made PATH), the functions whose section is mostly code
that did not run (an object file without function sections) come last, so that
those sections do not come between the functions that ran.
"""
import argparse
import bisect
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "Tests", "integration"))
from watcher import Watcher, patch_time, usage_requests, wait_until  # noqa: E402
from support import pki  # noqa: E402
from support.peers import free_port  # noqa: E402
from support.servers import start_fake_apiserver_program, start_usage_server_program  # noqa: E402
from support.watcher import LABEL, POD, watcher_env  # noqa: E402

# Under callgrind the watcher runs tens of times slower: generous waits.
SLOW = 120
HEADER = """\
# The functions one run of the watcher executes, hot first, for lld's
# --symbol-ordering-file (scripts/build-static.sh). Made by
# scripts/symbol-order.sh; regenerate it after changes to the code that runs.
"""


def probe(port):
    """GETs each path of the HTTP_PORT server once, as a kubelet and Prometheus would."""
    for path in ("/healthz", "/readyz", "/metrics"):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=SLOW) as response:
                response.read()
        except urllib.error.HTTPError as error:  # 503 from /readyz while a write is due
            error.read()


def run(binary, folder, seconds, flips):
    """Runs `binary` under callgrind through the whole scenario; returns the callgrind output's path."""
    out = os.path.join(folder, "callgrind.out")
    prefix = ["valgrind", "--tool=callgrind", "--demangle=no", "--show-below-main=yes",
              "--callgrind-out-file=" + out]
    ca_folder = os.path.join(folder, "pki")
    os.mkdir(ca_folder)
    ca = pki.make_ca(ca_folder)
    api = start_fake_apiserver_program({"ca": ca, "server": pki.make_cert(ca_folder, "server", ca)})
    usage = start_usage_server_program()
    port = free_port()
    watcher = None
    try:
        usage.set(percent=40)
        api.add_pod(POD, labels={"app": "echo", LABEL: "yes"})
        env = watcher_env(api, usage, CHECKING_INTERVAL="0.1", MEMORY_PERCENT="75", HTTP_PORT=str(port))
        watcher = Watcher(binary, env, prefix)
        wait_until(lambda: usage_requests(usage) > 2, SLOW, "the watcher's first checks")
        for _ in range(flips):
            for value, percent in (("no", 90), ("yes", 40)):
                since = time.time()
                usage.set(percent=percent)
                wait_until(lambda: patch_time(api, value, since), SLOW, "the label to become " + value)
        checks, end = usage_requests(usage), time.monotonic() + seconds
        while time.monotonic() < end:
            probe(port)
            time.sleep(1)
        if usage_requests(usage) <= checks:
            raise RuntimeError("the watcher stopped checking")
        log = watcher.text()
        watcher.stop(timeout=SLOW)
        if watcher.process.returncode != 0:
            raise RuntimeError("the watcher exited with %s; its log:\n%s" % (watcher.process.returncode, log[-2000:]))
        watcher = None
    finally:
        if watcher is not None:
            watcher.stop(timeout=SLOW)
        api.stop()
        usage.stop()
    return out


def self_costs(path):
    """{function name: instructions executed in it, callees excluded} from a callgrind output file."""
    names, costs, function, skip = {}, {}, None, False
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("fn="):
                match = re.match(r"fn=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
                if match.group(2):
                    names[match.group(1)] = match.group(2)
                # callgrind names a recursive call's level NAME'2 (--separate-recs)
                function = re.sub(r"'\d+$", "", names[match.group(1)])
                costs.setdefault(function, 0)
            elif line.startswith("cfn="):
                match = re.match(r"cfn=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
                if match.group(2):
                    names[match.group(1)] = match.group(2)
            elif line.startswith("calls="):
                skip = True  # the next cost line is the call's inclusive cost
            elif line[:1] and line[0] in "0123456789+-*" and function is not None:
                if skip:
                    skip = False
                    continue
                fields = line.split()
                if len(fields) >= 2:
                    costs[function] += int(fields[1])
    return costs


def symbols(binary):
    """(every function symbol's (address, name) by address, {name: size}, the names of glibc's IFUNC
    symbols) in `binary`."""
    listing = subprocess.run(["nm", "-n", "-S", "--defined-only", binary], check=True, capture_output=True,
                             text=True).stdout
    functions, sizes, ifuncs = [], {}, set()
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) in (3, 4) and fields[-2] in "TtWi":
            # An IFUNC symbol's address is its resolver's, which runs at start-up.
            functions.append((int(fields[0], 16), fields[-1]))
            sizes[fields[-1]] = int(fields[1], 16) if len(fields) == 4 else 0
            if fields[-2] == "i":
                ifuncs.add(fields[-1])
    return functions, sizes, ifuncs


def named(costs, functions):
    """`costs` with callgrind's "0x…" names (an address its symbol table lookup missed) named by
    the function symbol at or before the address."""
    addresses = [address for address, _ in functions]
    result = {}
    for name, cost in costs.items():
        if re.fullmatch(r"0x[0-9a-f]+", name):
            index = bisect.bisect_right(addresses, int(name, 16)) - 1
            if index < 0:
                continue
            name = functions[index][1]
        result[name] = result.get(name, 0) + cost
    return result


def coarse_sections(map_path, costs, sizes):
    """{symbol: input section} for the executed symbols whose section of .text is mostly code that
    did not run, from lld's map (-Map) of the link: object files built without function sections
    (libcrypto, libssl, the .text of the Swift runtime's Swift.o) move only as a whole."""
    sections, in_text = [], False
    with open(map_path, errors="replace") as f:
        for line in f:
            # VMA LMA Size Align, then Out, In or Symbol at indentation 0, 8 or 16
            match = re.match(r"\s*[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+ (\s*)(.*)$", line.rstrip("\n"))
            if not match:
                continue
            depth, text = len(match.group(2)), match.group(3)
            if depth == 0:
                in_text = text == ".text"
            elif in_text and depth == 8:
                sections.append((text, int(match.group(1), 16), []))
            elif in_text and sections:
                sections[-1][2].append(text)
    coarse = {}
    for name, size, names in sections:
        ran = [symbol for symbol in names if symbol in costs]
        if ran and 2 * sum(sizes.get(symbol, 0) for symbol in ran) < size:
            coarse.update((symbol, name) for symbol in ran)
    return coarse


def order(costs, functions, ifuncs, coarse):
    """The names to write: hot first, each IFUNC variant's siblings after it, and the symbols of
    `coarse` sections after all others, so that they do not come between the functions that ran."""
    ordered, seen, functions = [], set(), {name for _, name in functions}

    def add(name):
        if name not in seen and name not in coarse:
            seen.add(name)
            ordered.append(name)

    # A variant is named __NAME_VARIANT (__memmove_avx_unaligned_erms for memmove).
    families = {}
    for name in functions:
        match = re.match(r"__([A-Za-z0-9]+(?:_chk)?)_", name)
        if match and match.group(1) in ifuncs:
            families.setdefault(match.group(1), []).append(name)
    for name, _ in sorted(costs.items(), key=lambda item: (-item[1], item[0])):
        if name not in functions:
            continue  # "0x…" (no symbol) or a name nm does not list
        add(name)
        match = re.match(r"__([A-Za-z0-9]+(?:_chk)?)_", name)
        if match and match.group(1) in families:
            for sibling in sorted(families[match.group(1)]):
                add(sibling)
    hot = sorted(costs.items(), key=lambda item: (-item[1], item[0]))
    return ordered + [name for name, _ in hot if name in coarse]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--flips", type=int, default=3)
    parser.add_argument("--map", help="lld's map (-Map) of the link that made --binary")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="symbol-order-")
    try:
        # valgrind 3.19 cannot read the DWARF 5 that Swift 6 writes; the symbols are enough.
        copy = os.path.join(folder, "network-watcher")
        subprocess.run(["strip", "--strip-debug", "-o", copy, args.binary], check=True)
        functions, sizes, ifuncs = symbols(copy)
        costs = named(self_costs(run(copy, folder, args.seconds, args.flips)), functions)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    coarse = coarse_sections(args.map, costs, sizes) if args.map else {}
    names = order(costs, functions, ifuncs, coarse)
    known = {name for _, name in functions}
    unnamed = sorted(name for name in costs if name not in known)
    with open(args.out, "w") as f:
        f.write(HEADER + "".join(name + "\n" for name in names))
    print("%s: %d functions (%d executed, %d without a symbol%s; %d last, in %d sections that ran mostly"
          " not)" % (args.out, len(names), len(costs) - len(unnamed), len(unnamed),
                     (": " + " ".join(unnamed[:5])) if unnamed else "", len(coarse), len(set(coarse.values()))),
          file=sys.stderr)


if __name__ == "__main__":
    main()

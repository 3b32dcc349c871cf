"""The table of a benchmark run: `python3 bench/report.py DIR` (DIR as written by bench/run.py).

Per client, over the repetitions: the median with min-max, and the ratio to
HTTPLite (peer / HTTPLite, so 0.50x costs half as much).

    keep-alive     (cpu_us(N) - median cpu_us(N=0)) / N, plain and TLS
    new TLS        (cpu_us(M) - median cpu_us(N=0)) / M, in ms
    peak RSS       ru_maxrss of the TLS keep-alive run
    one-shot       fork to exit of a process that makes one plain GET
    binary         size of the executable after `strip` (interpreters: none)

Ratios are paired: within each repetition the clients ran one after the
other, seconds apart, so they shared the machine's conditions; the ratio shown
is the median over repetitions of peer(rep) / HTTPLite(rep). On a shared
machine this is much steadier than the ratio of the two medians, since load
from elsewhere moves every client of a repetition alike.

Then each target of issues 5 and 2, met or missed, from the same paired ratios.
"""
import json
import os
import statistics
import sys

REFERENCE = "httplite"


def load(folder):
    with open(os.path.join(folder, "meta.json")) as f:
        meta = json.load(f)
    with open(os.path.join(folder, "runs.jsonl")) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    return meta, runs


def figures(meta, runs):
    """{client: {figure: {repetition: value}}} and {client: [error lines]}."""
    result, errors = {}, {}
    for client in meta["clients"]:
        mine = [r for r in runs if r["client"] == client]
        errors[client] = sorted({"%s n=%d: %s" % (r["mode"], r["n"], r["error"]) for r in mine if "error" in r})
        good = [r for r in mine if "error" not in r]
        baseline = {}
        for mode in ("plain", "tls", "tlsnew"):
            values = [r["cpu_us"] for r in good if r["phase"] == "baseline" and r["mode"] == mode]
            if values:
                baseline[mode] = statistics.median(values)
        f = {}

        def per_rep(phase, value, mode=None):
            return {r["rep"]: value(r) for r in good if r["phase"] == phase and (mode is None or r["mode"] == mode)}

        def per_request(phase, scale):
            if phase not in baseline:
                return {}
            return per_rep(phase, lambda r: (r["cpu_us"] - baseline[phase]) / r["n"] / scale)

        f["plain_us"] = per_request("plain", 1)
        f["tls_us"] = per_request("tls", 1)
        f["tlsnew_ms"] = per_request("tlsnew", 1000)
        f["rss_mb"] = per_rep("tls", lambda r: r["maxrss_kb"] / 1024)
        f["oneshot_ms"] = per_rep("oneshot", lambda r: r["wall_s"] * 1000)
        f["first_ms"] = per_rep("oneshot", lambda r: r["first_ms"])
        f["startup_cpu_ms"] = per_rep("baseline", lambda r: r["cpu_us"] / 1000, "plain")
        f["baseline_rss_mb"] = per_rep("baseline", lambda r: r["maxrss_kb"] / 1024, "plain")
        size = meta["clients"][client].get("stripped_bytes")
        f["binary_mb"] = {"all": size / 1e6} if size else {}
        result[client] = f
    return result, errors


def median(values):
    values = list(values.values()) if isinstance(values, dict) else list(values)
    return statistics.median(values) if values else None


def paired(values, reference):
    """The per-repetition ratios values[rep] / reference[rep] (one ratio for single values)."""
    if "all" in values and "all" in reference:
        return [values["all"] / reference["all"]] if reference["all"] else []
    return [values[rep] / reference[rep] for rep in values if rep in reference and reference[rep] > 0]


def number(value):
    if value is None:
        return "-"
    if abs(value) >= 100:
        return "%.0f" % value
    if abs(value) >= 10:
        return "%.1f" % value
    return "%.2f" % value


def cell(values, reference):
    if not values:
        return "-"
    listed = list(values.values())
    text = number(median(listed))
    if len(listed) > 1:
        text += " (%s-%s)" % (number(min(listed)), number(max(listed)))
    if reference is not None:
        ratios = paired(values, reference)
        if ratios:
            text += " %.2fx" % median(ratios)
    return text


COLUMNS = [
    ("plain_us", "keep-alive plain, CPU us/req"),
    ("tls_us", "keep-alive TLS, CPU us/req"),
    ("tlsnew_ms", "new TLS conn, CPU ms"),
    ("rss_mb", "peak RSS TLS, MB"),
    ("oneshot_ms", "one-shot, ms"),
    ("binary_mb", "stripped binary, MB"),
]

DETAIL_COLUMNS = [
    ("startup_cpu_ms", "CPU of an N=0 run, ms"),
    ("baseline_rss_mb", "RSS of an N=0 run, MB"),
    ("first_ms", "first response, ms after main"),
]


def table(data, columns):
    reference = data.get(REFERENCE, {})
    lines = ["| client | " + " | ".join(title for _, title in columns) + " |",
             "|---" * (len(columns) + 1) + "|"]
    for client, f in data.items():
        row = []
        for key, _ in columns:
            ref = reference.get(key) if client != REFERENCE and reference.get(key) else None
            if key == "binary_mb" and not f[key]:
                row.append("(interpreter)")
            else:
                row.append(cell(f[key], ref))
        lines.append("| %s | %s |" % (client, " | ".join(row)))
    return lines


def targets(data, reference=REFERENCE):
    """One line per target: (name, met or None when not measured, the figures)."""
    lines = []
    ours = data.get(reference, {})

    def within(label, key, peer, limit, unit):
        theirs = data.get(peer, {})
        ratios = paired(ours.get(key, {}), theirs.get(key, {})) if ours.get(key) and theirs.get(key) else []
        if not ratios:
            lines.append((label, None, "not measured"))
            return
        r = median(ratios)
        spread = " (%.2f-%.2f over repetitions)" % (min(ratios), max(ratios)) if len(ratios) > 1 else ""
        lines.append((label, r <= limit, "%s %s vs %s %s %s: %.2fx%s, limit %.2fx" % (
            reference, number(median(ours[key])), peer, number(median(theirs[key])), unit, r, spread, limit)))

    within("issue 5: keep-alive plain within 1.15x of raw C", "plain_us", "raw-c", 1.15, "us/req")
    within("issue 5: keep-alive TLS within 1.15x of raw C", "tls_us", "raw-c", 1.15, "us/req")
    within("issue 5: keep-alive plain below libcurl", "plain_us", "libcurl", 1.0, "us/req")
    within("issue 5: keep-alive TLS below libcurl", "tls_us", "libcurl", 1.0, "us/req")
    within("issue 5: new TLS connection within 1.2x of raw C", "tlsnew_ms", "raw-c", 1.2, "ms")
    within("issue 5: peak RSS with TLS within 1.5x of raw C", "rss_mb", "raw-c", 1.5, "MB")
    oneshot = ours.get("oneshot_ms")
    if not oneshot:
        lines.append(("issue 5: startup to first response under 3 ms", None, "not measured"))
    else:
        lines.append(("issue 5: startup to first response under 3 ms", median(oneshot) < 3,
                      "fork to exit of a one-GET process: median %s ms, min %s ms"
                      % (number(median(oneshot)), number(min(oneshot.values())))))
    within("issue 2: keep-alive plain within 1.3x of libcurl", "plain_us", "libcurl", 1.3, "us/req")
    within("issue 2: keep-alive TLS within 1.5x of libcurl", "tls_us", "libcurl", 1.5, "us/req")
    return lines


def loadavg(values):
    return " ".join("%.2f" % v for v in values) if values else "-"


def render(folder):
    meta, runs = load(folder)
    data, errors = figures(meta, runs)
    out = ["N=%d keep-alive requests, M=%d new TLS connections, %d repetition(s), %.0f s in all."
           % (meta["n"], meta["m"], meta["reps"], meta.get("seconds", 0)),
           "Load average (1, 5, 15 min) at start %s, at end %s."
           % (loadavg(meta.get("load_at_start")), loadavg(meta.get("load_at_end"))),
           "Cells: median (min-max) over repetitions, then the median over repetitions of "
           "peer / %s within the same repetition." % REFERENCE, ""]
    out += table(data, COLUMNS)
    out += ["", "Start-up detail:", ""]
    out += table(data, DETAIL_COLUMNS)
    for reference in (REFERENCE, "httplite-previous", "httplite-static"):
        if reference not in data:
            continue
        out += ["", "Targets, for %s (paired ratios):" % reference, ""]
        for label, met, detail in targets(data, reference):
            verdict = "not measured" if met is None else ("met" if met else "MISSED")
            out.append("- %s: %s (%s)" % (label, verdict, detail))
    notes = []
    for client, info in meta["clients"].items():
        if info.get("no_tls"):
            notes.append("- %s: TLS modes skipped: %s" % (client, info["no_tls"]))
        for line in errors.get(client, []):
            notes.append("- %s failed: %s" % (client, line))
    for client, reason in meta.get("skipped", {}).items():
        notes.append("- %s skipped: %s" % (client, reason))
    if notes:
        out += ["", "Notes:", ""] + notes
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: report.py DIR")
    sys.stdout.write(render(sys.argv[1]))

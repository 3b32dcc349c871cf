"""scripts/bench.sh --quick: the client benchmark still builds, runs and reports.

Timings are not asserted (the machine is shared); what is asserted is that the
harness works end to end: every client either has a row of figures in the
table or is named on a `skipped` line, and none of them failed a run.
"""
import json
import os
import re
import subprocess

from conftest import REPO

CLIENTS = ["httplite", "httplite-static", "httplite-dynamic", "raw-c", "libcurl", "go-nethttp", "urlsession",
           "asynchttpclient", "python-urllib3", "php-curl"]
# The reference and the two peers its targets are measured against are never skipped.
REQUIRED = ["httplite", "raw-c", "libcurl"]
NUMBER = re.compile(r"^-?\d+(\.\d+)?")


def test_quick_benchmark_has_a_row_per_client(tmp_path):
    out = tmp_path / "results"
    result = subprocess.run(["scripts/bench.sh", "--quick", "--out", str(out)], cwd=REPO,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=1200)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]

    skipped = set(re.findall(r"^skipped (\S+): .+$", result.stdout, re.M))
    table = (out / "table.md").read_text()
    rows = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and cells[0] in CLIENTS and cells[0] not in rows:
            rows[cells[0]] = cells[1:]

    for client in REQUIRED:
        assert client not in skipped, log[-4000:]
    for client in CLIENTS:
        if client in skipped:
            assert client not in rows
            continue
        assert client in rows, "%s has no row and was not skipped:\n%s" % (client, table)
        plain, tls, tlsnew, rss = rows[client][:4]
        assert NUMBER.match(plain), (client, rows[client])
        if client == "urlsession" and "urlsession: TLS modes skipped" in result.stdout:
            continue
        for figure in (tls, tlsnew, rss):
            assert NUMBER.match(figure), (client, rows[client])

    assert "failed:" not in table, table
    meta = json.loads((out / "meta.json").read_text())
    assert meta["reps"] == 1 and meta["n"] > 0 and meta["m"] > 0
    runs = [json.loads(line) for line in (out / "runs.jsonl").read_text().splitlines()]
    assert runs and not [r for r in runs if "error" in r]
    assert "Targets, for httplite" in result.stdout

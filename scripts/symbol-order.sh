#!/usr/bin/env bash
# Regenerates scripts/symbol-order.txt, the functions a representative run of
# the watcher executes, hot first, which scripts/build-static.sh hands to lld
# (--symbol-ordering-file) so that they sit together in the binary.
#
#   scripts/symbol-order.sh [OUTPUT]     (default: scripts/symbol-order.txt)
#
# Builds the static binary (scripts/build-static.sh, with lld's map of the
# link), then bench/symbol_order.py runs the binary before `strip` under
# valgrind's callgrind against the test servers (TLS API server, usage
# server, HTTP_PORT probes): start-up, label flips, steady checks, SIGTERM.
# Takes about a minute besides the build. Run it after changes to the code a
# run executes (Sources/, the Swift toolchain, OpenSSL or glibc) and commit
# the file: the build itself does not need valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
output=${1:-scripts/symbol-order.txt}

command -v valgrind >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind; } >/dev/null
# bench/symbol_order.py uses the tests' support code (pytest): .venv, as scripts/test.sh.
scripts/install-deps.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
NW_LINK_MAP=$work/map.txt scripts/build-static.sh "$work/network-watcher" >&2
.venv/bin/python bench/symbol_order.py --binary .build-static/release/network-watcher \
  --map "$work/map.txt" --out "$output"

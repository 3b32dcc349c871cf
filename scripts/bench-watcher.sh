#!/usr/bin/env bash
# The watcher's own footprint (issue 5), against the project's test servers.
#
#   scripts/bench-watcher.sh [--quick] [--out DIR]     (also: scripts/bench.sh --watcher)
#
# Builds the binary that ships (scripts/build-embedded.sh against the lean
# OpenSSL of scripts/build-openssl.sh, or OPENSSL_PREFIX's), the normal static
# build (scripts/build-static.sh) and the plain release build, then
# bench/watcher.py measures each, from a cold page cache: idle cost at the default 1 s
# interval for 60 s (CPU, RSS, descriptors, system calls per check), and the
# reaction time over 100 flips at a 100 ms interval. --quick: 5 s idle, 5 flips.
# Results: DIR/watcher.json and DIR/watcher.md (default bench/.build-results/watcher-DATE-TIME).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-watcher.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
out=${out:-bench/.build-results/watcher-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out" bench/.build-bin
lock=/tmp/swift-build.lock

command -v strace >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace; } >/dev/null
# bench/watcher.py uses the tests' support code (pytest): .venv, as scripts/test.sh.
scripts/install-deps.sh

echo "bench-watcher: building the shipped binary (scripts/build-embedded.sh), the static one and the release build" >&2
if [ -z "${OPENSSL_PREFIX:-}" ]; then
  OPENSSL_PREFIX=$(scripts/build-openssl.sh)
fi
OPENSSL_PREFIX=$OPENSSL_PREFIX SWIFTC_LOCK=$lock scripts/build-embedded.sh bench/.build-bin/network-watcher-shipped >"$out/build-embedded.log" 2>&1 \
  || { tail -5 "$out/build-embedded.log" >&2; exit 1; }
flock "$lock" scripts/build-static.sh bench/.build-bin/network-watcher-static >"$out/build-static.log" 2>&1 \
  || { tail -5 "$out/build-static.log" >&2; exit 1; }
flock "$lock" swift build -c release --product network-watcher >"$out/build-release.log" 2>&1 \
  || { tail -5 "$out/build-release.log" >&2; exit 1; }

if [ "$quick" = 1 ]; then
  set -- --idle-seconds 5 --strace-seconds 3 --flips 5
else
  set -- --idle-seconds 60 --strace-seconds 20 --flips 100
fi
.venv/bin/python bench/watcher.py --out "$out" --cold "$@" \
  --binary shipped=bench/.build-bin/network-watcher-shipped \
  --binary static=bench/.build-bin/network-watcher-static \
  --binary release=.build/release/network-watcher

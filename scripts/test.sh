#!/usr/bin/env bash
# Builds everything and runs every test: Swift unit tests, then the
# integration tests that drive the built binaries against real peers
# (nginx, openssl s_server, kubectl) and the test servers. pytest runs from
# .venv/, which scripts/install-deps.sh makes (Debian's own Python refuses pip).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
swift build --build-tests
swift test --skip-build
scripts/fuzz.sh 20
# The binary that goes into the scratch image, built in Embedded Swift mode (its
# size budget and the pod-faithful run are integration tests), and the same
# program as a normal static build, whose link the symbol-order test reads.
scripts/build-embedded.sh out/network-watcher
scripts/build-static.sh out/network-watcher-static
.venv/bin/python -m pytest -q "$@"
# The watcher's suites once more against the shipped (Embedded) binary; the
# httplite CLI they use is the debug build's.
if [ $# -eq 0 ]; then
  mkdir -p out/shipped-bin
  cp out/network-watcher .build/debug/httplite out/shipped-bin/
  NW_BIN_DIR=out/shipped-bin .venv/bin/python -m pytest -q Tests/integration/test_watcher_*.py
fi

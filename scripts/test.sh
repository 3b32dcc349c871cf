#!/usr/bin/env bash
# Builds everything and runs every test: Swift unit tests, then the
# integration tests that drive the built binaries against real peers
# (nginx, openssl s_server, kubectl) and the test servers. pytest runs from
# .venv/, which scripts/install-deps.sh makes (Debian's own Python refuses pip).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
# The lean OpenSSL the shipped binary links, built once per Debian version from
# Debian's source package (a few minutes the first time; it needs the network
# to read Debian's index and stops here without it). An OPENSSL_PREFIX already
# set (a folder scripts/build-openssl.sh made) is used as it is.
if [ -z "${OPENSSL_PREFIX:-}" ]; then
  OPENSSL_PREFIX=$(scripts/build-openssl.sh)
fi
export OPENSSL_PREFIX
swift build --build-tests
swift test --skip-build
scripts/fuzz.sh 20
# The binary that goes into the scratch image, built in Embedded Swift mode
# against OPENSSL_PREFIX (its size budget, its OpenSSL and the pod-faithful run
# are integration tests), and the same program as a normal static build (the
# system's OpenSSL), whose link the symbol-order test reads.
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

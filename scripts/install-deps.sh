#!/usr/bin/env bash
# Installs what is missing, on Debian 12 (as root or with sudo):
#
#   scripts/install-deps.sh          what scripts/test.sh needs
#   scripts/install-deps.sh --demo   only what scripts/demo.sh needs
#
# The demo needs OpenSSL's headers and pkg-config (to build), openssl (its
# test certificates) and kubectl; its test servers use Python's standard
# library only. The tests also need nginx, podman, file, curl, prometheus (promtool),
# python3-venv, dpkg-dev, make and perl (scripts/build-openssl.sh), and
# Python packages, which go into a virtual environment, .venv/ in the
# repository (made once with the python3 on PATH, then reused), never into
# the system Python: Debian's refuses pip (PEP 668). scripts/test.sh runs
# pytest from .venv/bin/python.
set -euo pipefail
cd "$(dirname "$0")/.."

demo=0
case "${1:-}" in
  --demo) demo=1 ;;
  "") ;;
  *) echo "install-deps.sh: unknown argument $1 (--demo or nothing)" >&2; exit 2 ;;
esac

missing=()
dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v openssl >/dev/null || missing+=(openssl)
command -v kubectl >/dev/null || missing+=(kubernetes-client)
if [ "$demo" = 0 ]; then
  [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing+=(nginx-light)
  command -v podman >/dev/null || missing+=(podman)
  command -v file >/dev/null || missing+=(file)
  # curl is a real client of the health and metrics server in its tests.
  command -v curl >/dev/null || missing+=(curl)
  # promtool (Debian's prometheus package) checks the /metrics text in the Swift tests.
  command -v promtool >/dev/null || missing+=(prometheus)
  # scripts/build-openssl.sh unpacks Debian's openssl source with dpkg-source and builds it with make and perl.
  command -v dpkg-source >/dev/null || missing+=(dpkg-dev)
  command -v make >/dev/null || missing+=(make)
  perl -e 'use IPC::Cmd; use Pod::Usage' 2>/dev/null || missing+=(perl)
  # Debian's python3 makes virtual environments only with python3-venv (ensurepip).
  [ -x .venv/bin/python ] || python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
fi
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "installing: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
[ "$demo" = 1 ] && exit 0

# A venv whose python no longer runs (its base was removed or moved) is made again.
if ! .venv/bin/python -c '' 2>/dev/null; then
  rm -rf .venv
  echo "making .venv (the tests' Python packages) with $(command -v python3)"
  python3 -m venv .venv
fi
# urllib3: a peer of the client benchmark that scripts/bench.sh --quick runs among the tests.
.venv/bin/python -c 'import pytest, yaml, kubernetes_validate, rfc3339_validator, urllib3' 2>/dev/null \
  || .venv/bin/python -m pip install -q --disable-pip-version-check \
       pytest pyyaml kubernetes-validate rfc3339-validator urllib3

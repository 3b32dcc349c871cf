#!/usr/bin/env bash
# The client benchmark of issue 5: HTTPLite against its peers, on a local nginx.
#
#   scripts/bench.sh [--quick] [--n N] [--m M] [--reps R] [--clients a,b,...] [--out DIR]
#   scripts/bench.sh --profile [--clients a,b,...] [--out DIR]
#   scripts/bench.sh --watcher [--quick] [--out DIR]     (the watcher's own footprint)
#
# Makes a test CA and a server certificate, starts nginx on 127.0.0.1 (plain
# HTTP and TLS, keep-alive, an Echo Server-shaped /usage), builds every client
# (release), runs them interleaved with bench/run.py, and prints the table that
# bench/report.py makes of the medians. Results go to DIR (default
# bench/.build-results/DATE-TIME): runs.jsonl, meta.json, table.md.
#
#   --quick     N=300, M=20, one repetition: checks that the harness works, in CI.
#               AsyncHTTPClient (about 5 minutes to build) runs only if already built.
#   defaults    N=20000 keep-alive requests, M=500 new TLS connections, 5 repetitions.
#   --profile   instead of timing: system calls (strace -c), instructions and
#               allocations (valgrind --tool=callgrind) per request, which a
#               busy machine does not disturb (bench/profile.py; a few minutes).
#
# Missing toolchains are installed with apt-get/pip when running as root
# (BENCH_NO_INSTALL=1 turns that off); a peer whose toolchain still cannot be
# had is skipped with a line that says so. BENCH_LOCK=FILE holds that flock
# while measuring, so that no build run through the same lock disturbs it
# (for the full run: BENCH_LOCK=/tmp/swift-build.lock). BENCH_HTTPLITE=PATH
# measures that httplite binary instead of building the shipped (Embedded)
# one; BENCH_HTTPLITE_PREVIOUS=PATH adds the row httplite-previous, for
# example `scripts/build-embedded.sh --product httplite` run on an earlier commit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

command_line="scripts/bench.sh${*:+ $*}"
quick=0
watcher=0
profile=0
n=20000
m=500
reps=5
clients=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; n=300; m=20; reps=1 ;;
    --watcher) watcher=1 ;;
    --profile) profile=1 ;;
    --n) n=$2; shift ;;
    --m) m=$2; shift ;;
    --reps) reps=$2; shift ;;
    --clients) clients=$2; shift ;;
    --out) out=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
out=${out:-bench/.build-results/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)

say() { echo "bench: $*" >&2; }
lock=/tmp/swift-build.lock

if [ "$watcher" = 1 ]; then
  if [ "$quick" = 1 ]; then
    exec scripts/bench-watcher.sh --quick --out "$out"
  fi
  exec scripts/bench-watcher.sh --out "$out"
fi

# --- toolchains --------------------------------------------------------------
apt_missing=()
need_deb() { dpkg -s "$1" >/dev/null 2>&1 || apt_missing+=("$1"); }
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || apt_missing+=(nginx-light)
command -v openssl >/dev/null || apt_missing+=(openssl)
command -v gcc >/dev/null || apt_missing+=(gcc)
need_deb libssl-dev
need_deb libcurl4-openssl-dev
command -v go >/dev/null || apt_missing+=(golang-go)
command -v php >/dev/null || apt_missing+=(php-cli)
need_deb php-curl
if [ "$profile" = 1 ]; then
  command -v strace >/dev/null || apt_missing+=(strace)
  command -v valgrind >/dev/null || apt_missing+=(valgrind)
fi
if [ ${#apt_missing[@]} -gt 0 ]; then
  if [ "${BENCH_NO_INSTALL:-0}" != 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing ${apt_missing[*]}"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_missing[@]}"; } \
      >"$out/apt.log" 2>&1 || say "apt-get failed (see $out/apt.log); the peers it was for are skipped"
  else
    say "not installing ${apt_missing[*]} (not root, no apt-get, or BENCH_NO_INSTALL=1)"
  fi
fi
# urllib3 goes into the repository's .venv, never the system Python (PEP 668).
py=python3
[ -x .venv/bin/python ] && py=.venv/bin/python
if ! $py -c 'import urllib3' 2>/dev/null && [ "${BENCH_NO_INSTALL:-0}" != 1 ]; then
  { [ -x .venv/bin/python ] || python3 -m venv .venv; } >"$out/pip.log" 2>&1 && py=.venv/bin/python \
    && $py -m pip install -q urllib3 >>"$out/pip.log" 2>&1 || say "pip install urllib3 failed (see $out/pip.log)"
fi

# --- certificates and nginx --------------------------------------------------
work=$(mktemp -d /tmp/bench.XXXXXX)
nginx_pid=""
cleanup() {
  if [ -n "$nginx_pid" ]; then
    kill "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ca=$work/ca.crt
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/ca.key" -out "$ca" \
  -days 2 -subj /CN=bench-ca -addext basicConstraints=critical,CA:TRUE \
  -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$work/server.key" \
  -out "$work/server.csr" -subj /CN=127.0.0.1 2>/dev/null
printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n' \
  >"$work/server.ext"
openssl x509 -req -in "$work/server.csr" -CA "$ca" -CAkey "$work/ca.key" -CAcreateserial \
  -out "$work/server.crt" -days 2 -extfile "$work/server.ext" 2>/dev/null

read -r plain_port tls_port < <(python3 -c '
import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in sockets])')
sed -e "s|@DIR@|$work|g; s|@PLAIN_PORT@|$plain_port|; s|@TLS_PORT@|$tls_port|" \
    -e "s|@CERT@|$work/server.crt|; s|@KEY@|$work/server.key|" bench/nginx.conf.in >"$work/nginx.conf"
nginx=$(command -v nginx || echo /usr/sbin/nginx)
"$nginx" -c "$work/nginx.conf" -p "$work/" -e "$work/nginx-error.log" >"$work/nginx.out" 2>&1 &
nginx_pid=$!
plain_url=http://127.0.0.1:$plain_port/usage
tls_url=https://127.0.0.1:$tls_port/usage
for _ in $(seq 100); do
  if python3 -c "import socket,sys; [socket.create_connection(('127.0.0.1', p), 0.2).close() for p in sys.argv[1:]]" \
      "$plain_port" "$tls_port" 2>/dev/null; then
    break
  fi
  kill -0 "$nginx_pid" 2>/dev/null || { cat "$work/nginx.out" "$work/nginx-error.log" >&2; exit 1; }
  sleep 0.1
done
say "nginx on $plain_url and $tls_url"

# --- clients -----------------------------------------------------------------
# wanted NAME: whether --clients (empty: all) asks for NAME.
wanted() { [ -z "$clients" ] || [[ ",$clients," == *",$1,"* ]]; }
skips=()
skip() { skips+=(--skip "$1=$2"); say "skipping $1: $2"; }
logs=$out/build
mkdir -p "$logs" bench/.build-bin
# build NAME COMMAND...: runs a build with its output in the log; false on failure.
build() {
  local name=$1
  shift
  if "$@" >"$logs/$name.log" 2>&1; then
    return 0
  fi
  tail -5 "$logs/$name.log" >&2
  return 1
}

# httplite, the reference, is built as the shipped binary is: Embedded Swift.
if [ -n "${BENCH_HTTPLITE:-}" ]; then
  say "httplite: $BENCH_HTTPLITE"
else
  say "building httplite (scripts/build-embedded.sh --product httplite, as shipped: the lean OpenSSL)"
  if [ -z "${OPENSSL_PREFIX:-}" ]; then
    OPENSSL_PREFIX=$(scripts/build-openssl.sh) || { say "the lean OpenSSL could not be built"; exit 1; }
  fi
  # With its symbols, for --profile; the size reported is that of a stripped copy.
  build httplite env OPENSSL_PREFIX="$OPENSSL_PREFIX" SWIFTC_LOCK="$lock" EMBEDDED_SYMBOLS=1 scripts/build-embedded.sh --product httplite bench/.build-bin/httplite-embedded \
    || { say "the httplite build failed (see $logs/httplite.log)"; exit 1; }
fi
if [ -n "${BENCH_HTTPLITE_PREVIOUS:-}" ]; then
  [ -x "$BENCH_HTTPLITE_PREVIOUS" ] || { say "BENCH_HTTPLITE_PREVIOUS=$BENCH_HTTPLITE_PREVIOUS is not an executable"; exit 2; }
  say "httplite-previous: $BENCH_HTTPLITE_PREVIOUS"
fi
if wanted httplite-dynamic; then
  say "building httplite-dynamic (swift build -c release)"
  build httplite-dynamic flock "$lock" swift build -c release --product httplite \
    || skip httplite-dynamic "the release build failed (see $logs/httplite-dynamic.log)"
fi

if wanted httplite-static; then
  # The flags of scripts/build-static.sh, the normal static build, less -disable-implicit-concurrency-module-import: without the Concurrency
  # module, the top-level `var arguments` of Sources/httplite/main.swift is an
  # error (global mutable state), and that module costs nothing per request.
  say "building httplite-static (static executable, -Osize, as scripts/build-static.sh)"
  build httplite-static flock "$lock" swift build -c release --product httplite \
    --scratch-path bench/.build-httplite-static \
    -Xswiftc -static-executable -Xswiftc -Osize -Xswiftc -use-ld=lld \
    -Xswiftc -Xfrontend -Xswiftc -function-sections \
    -Xswiftc -Xfrontend -Xswiftc -disable-implicit-string-processing-module-import \
    -Xlinker --gc-sections -Xlinker --icf=all -Xlinker --build-id=none -Xlinker --no-eh-frame-hdr \
    || skip httplite-static "the static build failed (see $logs/httplite-static.log)"
fi

build launch gcc -O2 -Wall -static -o bench/.build-bin/launch bench/c/launch.c \
  || { say "cannot build bench/c/launch.c"; exit 1; }
build raw-c gcc -O2 -Wall -o bench/.build-bin/raw-c bench/c/raw.c -lssl -lcrypto \
  || skip raw-c "gcc or libssl-dev missing (see $logs/raw-c.log)"
build libcurl gcc -O2 -Wall -o bench/.build-bin/libcurl bench/c/curl.c -lcurl \
  || skip libcurl "libcurl4-openssl-dev missing (see $logs/libcurl.log)"

if ! wanted go-nethttp; then
  :
elif command -v go >/dev/null; then
  (cd bench/go && build go-nethttp env CGO_ENABLED=0 GOFLAGS=-mod=mod GOPROXY=off \
      GOCACHE="$root/bench/.build-go-cache" go build -trimpath -ldflags='-s -w' -o ../.build-bin/go-nethttp .) \
    || skip go-nethttp "go build failed (see $logs/go-nethttp.log)"
else
  skip go-nethttp "no go toolchain (Debian golang-go)"
fi

if wanted urlsession; then
  say "building urlsession"
  (cd bench/urlsession && build urlsession flock "$lock" swift build -c release --scratch-path ../.build-urlsession) \
    || skip urlsession "swift build failed (see $logs/urlsession.log)"
fi
urlsession_no_tls=""
if ! unshare --mount --propagation private true 2>/dev/null; then
  urlsession_no_tls="FoundationNetworking trusts only the system CA bundle, and no mount namespace could be made to put the test CA there"
fi

ahc=bench/.build-asynchttpclient/release/ahc-bench
if ! wanted asynchttpclient; then
  :
elif [ "$quick" = 1 ] && [ ! -x "$ahc" ]; then
  skip asynchttpclient "quick mode and not built yet (a first build takes about 5 minutes; a full run builds it)"
else
  say "building asynchttpclient"
  (cd bench/asynchttpclient && build asynchttpclient flock "$lock" swift build -c release \
      --scratch-path ../.build-asynchttpclient) \
    || skip asynchttpclient "swift build failed (see $logs/asynchttpclient.log)"
fi

$py -c 'import urllib3' 2>/dev/null || skip python-urllib3 "urllib3 is not installed (.venv/bin/python -m pip install urllib3)"
if ! command -v php >/dev/null; then
  skip php-curl "no php (Debian php-cli)"
elif ! php -r 'exit(extension_loaded("curl") ? 0 : 1);' 2>/dev/null; then
  skip php-curl "php has no curl extension (Debian php-curl)"
fi

# --- measure -----------------------------------------------------------------
if [ "$profile" = 1 ]; then
  say "profiling, results in $out"
  $py bench/profile.py --plain-url "$plain_url" --tls-url "$tls_url" --ca "$ca" --out "$out" \
    --clients "$clients" --urlsession-no-tls "$urlsession_no_tls" "${skips[@]}"
  exit 0
fi
measure=($py bench/run.py --plain-url "$plain_url" --tls-url "$tls_url" --ca "$ca" --out "$out"
         --n "$n" --m "$m" --reps "$reps" --clients "$clients" --command "$command_line"
         --urlsession-no-tls "$urlsession_no_tls" "${skips[@]}")
say "measuring: N=$n M=$m R=$reps, results in $out"
if [ -n "${BENCH_LOCK:-}" ]; then
  say "holding $BENCH_LOCK while measuring"
  flock "$BENCH_LOCK" "${measure[@]}"
else
  "${measure[@]}"
fi

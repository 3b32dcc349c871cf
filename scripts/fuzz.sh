#!/usr/bin/env bash
# Fuzzes every parser of outside bytes with libFuzzer and AddressSanitizer.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (default: 20 seconds, every target)
#
# Targets (harness and seed corpus in Tests/Fuzz/TARGET/): response (the
# response parser, whole input against split input), request (the request-head
# parser of the health and metrics server, the same way), json (read, write, read
# again; the path lookup against parse and subscripts), url (HTTPURL), yaml
# (YAML, kubeconfig resolution, ExecCredential),
# base64, settings (Settings.parse and APIEndpoint.resolve).
#
# Each harness is compiled into the module it tests (swiftc
# -sanitize=fuzzer,address, into .build-fuzz/, rebuilt when a source is newer),
# then the targets run one after another on one core. The corpus grows in a
# temporary folder, never in the repository. Prints one line per target
# (executions, libFuzzer's cov: and ft:, peak RSS, the verdict) and exits 1 if any
# target crashed, hung or ran out of memory; the folder with the crash inputs
# and logs is then kept and named. FUZZ_LOCK=FILE holds that flock around each
# compile (on a shared machine: FUZZ_LOCK=/tmp/swift-build.lock).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
[ $# -gt 0 ] && shift
all_targets=(response request json url yaml base64 settings)
targets=("${all_targets[@]}")
[ $# -eq 0 ] || targets=("$@")

out=.build-fuzz
swift_flags=(-sanitize=fuzzer,address -use-ld=lld -O -g -parse-as-library
  -Xfrontend -disable-implicit-string-processing-module-import
  -Xfrontend -disable-implicit-concurrency-module-import -I Sources/CTLS -I Sources/CSystem)

# The module a target's harness belongs to, and its input size cap. The
# response cap is over the parser's 4,096-byte chunk-size line limit and its
# 100-byte test header limit, and small enough for the byte-by-byte feed; the
# request cap is over the 8 KiB default head limit.
module_of() { case $1 in response|request|url) echo HTTPLite ;; json) echo JSON ;; *) echo Watcher ;; esac; }
max_len_of() { case $1 in url) echo 512 ;; base64|settings) echo 1024 ;; yaml) echo 8192 ;; request) echo 12288 ;; json) echo 4096 ;; *) echo 65536 ;; esac; }

locked() {
  if [ -n "${FUZZ_LOCK:-}" ]; then flock "$FUZZ_LOCK" "$@"; else "$@"; fi
}

# Whether $1 is missing or older than any of the other paths' files.
stale() {
  local binary=$1
  shift
  [ ! -e "$binary" ] || [ -n "$(find "$@" -newer "$binary" -print -quit)" ]
}

httplite_sources=(Sources/HTTPLite/*.swift)
json_sources=(Sources/JSON/*.swift)
# Watcher has folders (Sources/Watcher/Kubeconfig); main.swift stays out.
watcher_sources=()
while IFS= read -r file; do
  watcher_sources+=("$file")
done < <(find Sources/Watcher -name '*.swift' ! -path Sources/Watcher/main.swift | sort)

build() {
  local target=$1 harness=Tests/Fuzz/$1/harness.swift
  case $(module_of "$target") in
  HTTPLite)
    stale "$out/$target" "${httplite_sources[@]}" "$harness" || return 0
    locked swiftc "${swift_flags[@]}" -module-name HTTPLite "${httplite_sources[@]}" "$harness" -o "$out/$target"
    ;;
  JSON)
    stale "$out/$target" "${json_sources[@]}" "$harness" || return 0
    locked swiftc "${swift_flags[@]}" -module-name JSON "${json_sources[@]}" "$harness" -o "$out/$target"
    ;;
  Watcher)
    # Watcher imports HTTPLite and JSON as libraries, instrumented the same way.
    if stale "$out/libHTTPLite.a" "${httplite_sources[@]}"; then
      locked swiftc "${swift_flags[@]}" -module-name HTTPLite -emit-library -static -emit-module \
        -emit-module-path "$out/modules/HTTPLite.swiftmodule" "${httplite_sources[@]}" -o "$out/libHTTPLite.a"
    fi
    if stale "$out/libJSON.a" "${json_sources[@]}"; then
      locked swiftc "${swift_flags[@]}" -module-name JSON -emit-library -static -emit-module \
        -emit-module-path "$out/modules/JSON.swiftmodule" "${json_sources[@]}" -o "$out/libJSON.a"
    fi
    stale "$out/$target" "${watcher_sources[@]}" Tests/Fuzz/WatcherMain.swift "$harness" \
      "$out/libHTTPLite.a" "$out/libJSON.a" || return 0
    locked swiftc "${swift_flags[@]}" -module-name Watcher -I "$out/modules" \
      "${watcher_sources[@]}" Tests/Fuzz/WatcherMain.swift "$harness" \
      -L "$out" -lHTTPLite -lJSON -lssl -lcrypto -o "$out/$target"
    ;;
  esac
}

for target in "${targets[@]}"; do
  [ -f "Tests/Fuzz/$target/harness.swift" ] || { echo "unknown target $target (known: ${all_targets[*]})" >&2; exit 2; }
done
mkdir -p "$out/modules"
for target in "${targets[@]}"; do
  echo "building $target"
  build "$target"
done

# libFuzzer reports a trap itself; Swift's backtracer would race it and trip ASan.
export SWIFT_BACKTRACE=enable=no
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")
running=""
cleanup() {
  [ -z "$running" ] || kill "$running" 2>/dev/null || true
}
trap cleanup EXIT

failed=0
printf '%-9s %12s %7s %7s %8s  %s\n' target executions cov ft peak-rss result
for target in "${targets[@]}"; do
  mkdir -p "$work/corpus/$target" "$work/crashes"
  log=$work/$target.log
  dict=()
  [ -f "Tests/Fuzz/$target/dict" ] && dict=(-dict="Tests/Fuzz/$target/dict")
  status=0
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: 2 GiB is out of memory.
  "$out/$target" -max_total_time="$seconds" \
    -max_len="$(max_len_of "$target")" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/crashes/$target-" "${dict[@]}" \
    "$work/corpus/$target" "Tests/Fuzz/$target/corpus" >"$log" 2>&1 &
  running=$!
  wait "$running" || status=$?
  running=""
  # A target that crashes on a seed prints no coverage line: grep finds
  # nothing, and that must not end the script before the result line.
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  coverage=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || true)
  cov=$(echo "$coverage" | awk '{print $2}')
  ft=$(echo "$coverage" | awk '{print $4}')
  rss=$(grep -o 'rss: [0-9]*Mb' "$log" | tail -1 | awk '{print $2}' || true)
  if [ "$status" -eq 0 ]; then
    result=ok
  elif grep -q 'ERROR: libFuzzer: timeout' "$log"; then
    result="hang ($work/crashes/$target-*)"
  elif grep -q 'ERROR: libFuzzer: out-of-memory' "$log"; then
    result="out of memory ($work/crashes/$target-*)"
  else
    result="crash ($work/crashes/$target-*)"
  fi
  [ "$status" -eq 0 ] || failed=1
  printf '%-9s %12s %7s %7s %8s  %s\n' "$target" "${executions:-?}" "${cov:-?}" "${ft:-?}" "${rss:-?}" "$result"
  # What failed, as libFuzzer or the harness said it (the whole story is in the log).
  [ "$status" -eq 0 ] || grep -m1 -E 'Fatal error|ERROR: ' "$log" | cut -c1-300 | sed 's/^/    /' || true
done

if [ "$failed" -ne 0 ]; then
  echo "crash inputs and logs kept in $work"
  exit 1
fi
rm -rf "$work"

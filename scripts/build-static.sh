#!/usr/bin/env bash
# Builds network-watcher as one static, stripped Linux binary (Swift runtime,
# glibc and OpenSSL inside) for a FROM scratch image, and prints its size.
#   scripts/build-static.sh [OUTPUT]        (default: out/network-watcher)
set -euo pipefail
cd "$(dirname "$0")/.."
output=${1:-out/network-watcher}

# What --version reports besides the version (commit, build date, compiler).
source scripts/build-stamp.sh

# -Osize and function sections with --gc-sections/--icf drop unused code;
# the Regex and Concurrency runtimes are not imported since nothing uses them.
# --no-eh-frame-hdr drops the unwind index (about 220 kB) and
# scripts/no-eh-frame.ld the unwind tables themselves (about 1.1 MB): nothing
# in the program unwinds (Swift errors are not exceptions), so the only loss
# is the stack trace after a crash, which a static binary cannot symbolicate
# anyway.
# scripts/symbol-order.txt (made by scripts/symbol-order.sh) puts the
# functions a run executes side by side at the start of .text, hot first: the
# kernel maps up to 64 KB around each page of the binary a fault touches, so
# hot functions scattered over .text kept most of it resident (peak RSS 8.5
# -> 5.7 MiB, BENCHMARKS.md). lld moves sections, not functions: Swift code
# and glibc have one section per function, but Debian's libcrypto/libssl and
# the Swift runtime's Swift.o (.text, 1.5 MB) move only per object file. A
# listed name that no longer exists is skipped quietly
# (--no-warn-symbol-ordering): a stale list costs memory, never the build.
# NW_LINK_MAP=FILE writes lld's map of the link (scripts/symbol-order.sh).
#
# SwiftPM relinks when the flags change, not when a file they name does.
for input in scripts/symbol-order.txt scripts/no-eh-frame.ld; do
  if [ "$input" -nt .build-static/release/network-watcher ]; then rm -f .build-static/release/network-watcher; fi
done
swift build -c release --product network-watcher --scratch-path .build-static \
  -Xswiftc -static-executable -Xswiftc -Osize -Xswiftc -use-ld=lld \
  -Xswiftc -Xfrontend -Xswiftc -function-sections \
  -Xswiftc -Xfrontend -Xswiftc -disable-implicit-string-processing-module-import \
  -Xswiftc -Xfrontend -Xswiftc -disable-implicit-concurrency-module-import \
  -Xlinker --gc-sections -Xlinker --icf=all -Xlinker --build-id=none -Xlinker --no-eh-frame-hdr -Xlinker --script="$PWD/scripts/no-eh-frame.ld" \
  -Xlinker --symbol-ordering-file="$PWD/scripts/symbol-order.txt" -Xlinker --no-warn-symbol-ordering \
  ${NW_LINK_MAP:+-Xlinker -Map="$NW_LINK_MAP"} \
  -Xcc "${stamp_defines[0]}" -Xcc "${stamp_defines[1]}" -Xcc "${stamp_defines[2]}" \
  2> >(grep -v "statically linked applications requires at runtime" >&2)

mkdir -p "$(dirname "$output")"
cp .build-static/release/network-watcher "$output"
strip --strip-all -R .comment "$output"
echo "$output: $(stat -c %s "$output") bytes"

#!/usr/bin/env bash
# Builds network-watcher (or the httplite CLI) in Embedded Swift mode from the
# same sources as `swift build`, as one static, stripped Linux binary (glibc and
# OpenSSL inside), and prints its size.
#   scripts/build-embedded.sh [OUTPUT]                     (default: out/network-watcher-embedded)
#   scripts/build-embedded.sh --product httplite [OUTPUT]  (default: out/httplite-embedded)
#
# It calls swiftc directly, once per module (whole-module, as Embedded mode
# needs; -O, function sections) into .build-embedded/, then links with
# clang and lld. Embedded mode has no Glibc module: the sources read
# the C library through Sources/CSystem (see its shim.h), and Embedded/runtime.c
# brings what the Swift runtime gives a normal build (argv, Double(String)).
# SWIFTC_LOCK=FILE holds that flock around each compile (on a shared machine:
# SWIFTC_LOCK=/tmp/swift-build.lock). EMBEDDED_SYMBOLS=1 keeps the symbol table.
# OPENSSL_PREFIX=DIR compiles against DIR/include and links DIR/lib/libssl.a and
# libcrypto.a (the lean OpenSSL of scripts/build-openssl.sh, which the shipped
# binary carries) instead of the system's.
set -euo pipefail
cd "$(dirname "$0")/.."
product=network-watcher
if [ "${1:-}" = --product ]; then
  product=${2:?--product takes network-watcher or httplite}
  shift 2
fi
case $product in
  network-watcher) module=Watcher ;;
  httplite) module=httplite ;;
  *) echo "unknown product $product (network-watcher or httplite)" >&2; exit 2 ;;
esac
output=${1:-out/$product-embedded}
build=.build-embedded
embedded_lib=$(dirname "$(command -v swiftc)")/../lib/swift/embedded/x86_64-unknown-linux-gnu
if [ ! -d "$embedded_lib" ]; then
  echo "this Swift has no Embedded standard library for Linux ($embedded_lib): Swift 6.3 or later has" >&2
  exit 1
fi

locked() {
  if [ -n "${SWIFTC_LOCK:-}" ]; then flock "$SWIFTC_LOCK" "$@"; else "$@"; fi
}

# The OpenSSL to compile and link against: the system's, or OPENSSL_PREFIX's.
openssl_includes=()
openssl_libraries=(-lssl -lcrypto)
openssl_name=system
if [ -n "${OPENSSL_PREFIX:-}" ]; then
  openssl_lib=""
  for dir in "$OPENSSL_PREFIX"/lib64 "$OPENSSL_PREFIX"/lib; do
    if [ -f "$dir/libssl.a" ] && [ -f "$dir/libcrypto.a" ]; then openssl_lib=$dir; fi
  done
  if [ -z "$openssl_lib" ] || [ ! -f "$OPENSSL_PREFIX/include/openssl/ssl.h" ]; then
    echo "OPENSSL_PREFIX=$OPENSSL_PREFIX has no include/openssl/ssl.h and lib/libssl.a, libcrypto.a (scripts/build-openssl.sh makes them)" >&2
    exit 1
  fi
  # Before the system's include folder, for the clang importer (CTLS's shim.h).
  openssl_includes=(-Xcc -I -Xcc "$OPENSSL_PREFIX/include")
  openssl_libraries=("$openssl_lib/libssl.a" "$openssl_lib/libcrypto.a")
  openssl_name=$(basename "$OPENSSL_PREFIX")
fi

source scripts/build-stamp.sh
stamp_flags=()
for define in "${stamp_defines[@]}"; do stamp_flags+=(-Xcc "$define"); done

# The flags of scripts/build-static.sh, in Embedded mode: one object per module,
# and -O rather than -Osize: 15 % fewer instructions per keep-alive request
# for 2.5 % more bytes (BENCHMARKS.md, "The request path at the floor").
swift_flags=(-enable-experimental-feature Embedded -target x86_64-unknown-linux-gnu
  -swift-version 6 -wmo -O -Xfrontend -function-sections
  -Xfrontend -disable-implicit-string-processing-module-import
  -Xfrontend -disable-implicit-concurrency-module-import
  -I "$build" -I Sources/CTLS -I Sources/CSystem -I Sources/CBuildStamp -I Embedded/CEmbedded
  "${openssl_includes[@]}"
  # A clang module built from one OpenSSL's headers must not serve the other's.
  -module-cache-path "$build/module-cache/$openssl_name")

# Compiles module $1 from the remaining arguments into $build/$1.o; a library
# (not an executable's main.swift) also gets its .swiftmodule.
compile() {
  local name=$1 kind=$2
  shift 2
  local extra=()
  if [ "$kind" = library ]; then
    extra=(-parse-as-library -emit-module -emit-module-path "$build/$name.swiftmodule")
  fi
  echo "compiling $name"
  locked swiftc "${swift_flags[@]}" "${stamp_flags[@]}" -module-name "$name" "${extra[@]}" -c "$@" -o "$build/$name.o"
}

mkdir -p "$build"
compile JSON library Sources/JSON/*.swift
compile HTTPLite library Sources/HTTPLite/*.swift
if [ "$module" = Watcher ]; then
  # Sorted, so the object does not depend on the file system's order.
  mapfile -t watcher_sources < <(find Sources/Watcher -name '*.swift' | sort)
  compile Watcher executable "${watcher_sources[@]}"
else
  compile httplite executable Sources/httplite/*.swift
fi
clang -c -Os -ffunction-sections -fdata-sections -I Embedded Embedded/runtime.c -o "$build/runtime.o"

# As scripts/build-static.sh: --gc-sections/--icf drop unused code,
# --no-eh-frame-hdr and scripts/no-eh-frame.ld the unwind tables (nothing
# unwinds), and scripts/symbol-order.txt puts the functions a run executes
# first (made from the normal build: the watcher's own functions and the C
# libraries' have the same names here). libswiftUnicodeDataTables holds the tables String's Unicode
# operations (lowercased(), normalization) read.
mkdir -p "$(dirname "$output")"
clang -static -fuse-ld=lld -o "$output" \
  "$build/$module.o" "$build/HTTPLite.o" "$build/JSON.o" "$build/runtime.o" \
  -L "$embedded_lib" -lswiftUnicodeDataTables \
  "${openssl_libraries[@]}" -lm \
  -Wl,--gc-sections -Wl,--icf=all -Wl,--build-id=none -Wl,--no-eh-frame-hdr -Wl,--script="$PWD/scripts/no-eh-frame.ld" \
  -Wl,--symbol-ordering-file="$PWD/scripts/symbol-order.txt" -Wl,--no-warn-symbol-ordering \
  2> >(grep -v "statically linked applications requires at runtime" >&2)
# EMBEDDED_SYMBOLS=1 keeps the symbol table, for profilers (scripts/bench.sh --profile).
if [ "${EMBEDDED_SYMBOLS:-0}" = 1 ]; then
  strip --strip-debug -R .comment "$output"
else
  strip --strip-all -R .comment "$output"
fi
echo "$output: $(stat -c %s "$output") bytes"

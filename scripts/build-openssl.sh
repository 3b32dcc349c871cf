#!/usr/bin/env bash
# Builds the lean, static OpenSSL that the shipped binary links
# (scripts/build-embedded.sh with OPENSSL_PREFIX): Debian's own source package
# of OpenSSL, with Debian's patches, configured for what a TLS 1.2/1.3 client
# needs (ECDHE, AES-GCM, ChaCha20-Poly1305, RSA, RSA-PSS and ECDSA signatures,
# X.509 verification with host name and IP checks) and built with function
# sections, so that the linker drops what the program does not call.
#
#   scripts/build-openssl.sh [ROOT]   builds (once) and prints the prefix
#
# ROOT defaults to .build-openssl. The prefix, ROOT/KEY, holds include/ and
# lib/libssl.a, lib/libcrypto.a; KEY is the Debian version, the SHA-256 of its
# .dsc (as the signed Sources index gives it) and a hash of the configure
# options below, so a new Debian version (a security update) or a changed
# recipe builds a new folder, and a complete folder is used as it is. The
# prefix is printed alone on stdout, as the last line; progress goes to stderr.
#
# The version: the installed libssl-dev's, when the Debian mirror still has its
# source; otherwise the newest the mirror has (security suite or point
# release), never one older than the installed libssl-dev. A version whose
# files the mirror fails to serve is reported and the next one tried.
# OPENSSL_DEBIAN_VERSION=V asks for exactly V. The source comes through apt,
# with deb-src entries made from the system's apt sources in ROOT/apt (the
# system's apt configuration is not touched): apt checks the files against
# the signed index, and this script checks the .dsc's SHA-256 once more.
# Needs the network, dpkg-dev (installed when missing, as root), perl, make
# and clang. OPENSSL_JOBS sets make's -j (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

root=${1:-.build-openssl}

say() { echo "build-openssl: $*" >&2; }
fail() { say "$*"; exit 1; }

# What a TLS 1.2/1.3 client does not need: old protocols and ciphers, the
# algorithms of other national standards, finite-field DH and DSA, message
# formats (CMS, OCSP, CT, TS), engines and loadable modules, and every API
# OpenSSL 3.0 deprecates. Configure refuses an option it does not know.
options=(no-shared no-tests no-deprecated no-engine no-dso no-legacy no-comp
  no-dh no-dsa no-des no-aria no-camellia no-seed no-sm2 no-sm3 no-sm4
  no-cms no-ocsp no-ct no-ts no-srp no-psk no-dtls no-tls1 no-tls1_1
  no-idea no-mdc2 no-rc5 no-ssl3 no-zlib)
# Debian's OPENSSLDIR: the same openssl.cnf and default CA paths (certs/ and
# cert.pem there) as the system's OpenSSL.
openssldir=/usr/lib/ssl
# Debian's hardening (stack protector, fortified libc calls) and its default
# security level 2 stay; -Os and function sections make it small.
cflags=(-Os -ffunction-sections -fdata-sections -fstack-protector-strong -D_FORTIFY_SOURCE=2
  -DOPENSSL_TLS_SECURITY_LEVEL=2)
cc=clang
recipe=$(printf '%s\n' linux-x86_64 "${options[@]}" "$openssldir" "${cflags[@]}" "$cc" | sha256sum | cut -c1-8)

command -v apt-get >/dev/null || fail "needs apt-get (Debian): the source is Debian's openssl package"
need=()
command -v dpkg-source >/dev/null || need+=(dpkg-dev)
command -v make >/dev/null || need+=(make)
perl -e 'use IPC::Cmd; use Pod::Usage' 2>/dev/null || need+=(perl)
command -v "$cc" >/dev/null || fail "needs $cc (the Swift toolchain's is enough)"
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || fail "needs ${need[*]}: install them (apt-get install ${need[*]}) or run as root"
  say "installing ${need[*]}"
  apt-get update -qq || fail "apt-get update failed: no network? (needed to install ${need[*]})"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

mkdir -p "$root"
root=$(cd "$root" && pwd)
# One run at a time per ROOT (a second waits, then finds the folder built).
exec 9>"$root/.lock"
flock 9

# A private apt: deb-src entries for the system's deb entries, its own lists
# and cache, and no change to the system's configuration.
apt=$root/apt
mkdir -p "$apt/sources" "$apt/lists/partial" "$apt/cache/archives/partial"
: >"$apt/empty.list"
rm -f "$apt/sources/"*
shopt -s nullglob
for file in /etc/apt/sources.list.d/*.sources; do
  sed -E 's/^Types:.*$/Types: deb-src/' "$file" >"$apt/sources/$(basename "$file")"
done
for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [ -f "$file" ] || continue
  sed -nE 's/^[[:space:]]*deb([[:space:]])/deb-src\1/p' "$file" >"$apt/sources/$(basename "$file").list"
done
shopt -u nullglob
apt_options=(-o Dir::Etc::SourceList="$apt/empty.list" -o Dir::Etc::SourceParts="$apt/sources"
  -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache")
# Root's apt hands downloads to the _apt user, who cannot write into ROOT.
[ "$(id -u)" -ne 0 ] || apt_options+=(-o APT::Sandbox::User=root)

say "reading the Debian source index (apt-get update)"
if ! apt-get -qq "${apt_options[@]}" update >"$apt/update.log" 2>&1 || grep -q '^[EW]: Failed to fetch' "$apt/update.log"; then
  cat "$apt/update.log" >&2
  fail "cannot read Debian's source index: no network? The shipped binary needs this lean OpenSSL; nothing was built"
fi
index=$(apt-cache "${apt_options[@]}" showsrc openssl 2>/dev/null) || true
mapfile -t listed < <(printf '%s\n' "$index" | sed -n 's/^Version: //p' | sort -u)
[ ${#listed[@]} -gt 0 ] || fail "the Debian source index lists no openssl package"

# Newest first, by Debian's version order.
sorted=()
for version in "${listed[@]}"; do
  placed=()
  inserted=0
  for other in "${sorted[@]}"; do
    if [ "$inserted" = 0 ] && dpkg --compare-versions "$version" gt "$other"; then
      placed+=("$version")
      inserted=1
    fi
    placed+=("$other")
  done
  [ "$inserted" = 1 ] || placed+=("$version")
  sorted=("${placed[@]}")
done

installed=$(dpkg-query -W -f='${Version}' libssl-dev 2>/dev/null || true)
candidates=()
if [ -n "${OPENSSL_DEBIAN_VERSION:-}" ]; then
  printf '%s\n' "${listed[@]}" | grep -qxF "$OPENSSL_DEBIAN_VERSION" \
    || fail "OPENSSL_DEBIAN_VERSION=$OPENSSL_DEBIAN_VERSION is not in the index (it has ${sorted[*]})"
  candidates=("$OPENSSL_DEBIAN_VERSION")
else
  if [ -n "$installed" ] && printf '%s\n' "${listed[@]}" | grep -qxF "$installed"; then
    candidates=("$installed")
  fi
  for version in "${sorted[@]}"; do
    [ "$version" != "$installed" ] || continue
    if [ -z "$installed" ] || dpkg --compare-versions "$version" ge "$installed"; then
      candidates+=("$version")
    fi
  done
  [ ${#candidates[@]} -gt 0 ] \
    || fail "the index has openssl ${sorted[*]}, all older than the installed libssl-dev $installed"
fi

# The .dsc's SHA-256 as the signed index gives it, for version $1.
dsc_sha256() {
  local upstream=${1#*:}
  printf '%s\n' "$index" | awk -v version="$1" -v dsc="openssl_${upstream}.dsc" '
    /^Package:/ { this = 0 }
    /^Version:/ { this = ($2 == version) }
    /^Checksums-Sha256:/ { sums = 1; next }
    /^[^ ]/ { sums = 0 }
    this && sums && $3 == dsc { print $1; exit }'
}

# The folder for version $1.
key_for() {
  local sha
  sha=$(dsc_sha256 "$1")
  [ -n "$sha" ] || fail "the index gives no SHA-256 for openssl_${1#*:}.dsc"
  echo "openssl-$(echo "$1" | tr '~:' '__')-${sha:0:16}-$recipe"
}

complete() { [ -f "$1/.complete" ] && [ -f "$1/include/openssl/ssl.h" ] && [ -f "$1/lib/libssl.a" ] && [ -f "$1/lib/libcrypto.a" ]; }

for version in "${candidates[@]}"; do
  key=$(key_for "$version")
  prefix=$root/$key
  why="the installed libssl-dev's version"
  [ "$version" = "$installed" ] || why="the newest the mirror serves; installed libssl-dev: ${installed:-none}"
  [ -z "${OPENSSL_DEBIAN_VERSION:-}" ] || why="OPENSSL_DEBIAN_VERSION"
  if complete "$prefix"; then
    say "openssl $version ($why) is built already: $prefix"
    echo "$prefix"
    exit 0
  fi
  work=$root/$key.work
  rm -rf "$work" "$prefix"
  mkdir -p "$work"
  say "downloading Debian's openssl $version source ($why)"
  if ! (cd "$work" && apt-get -q "${apt_options[@]}" source --download-only "openssl=$version") >"$work/download.log" 2>&1; then
    sed -n 's/^E: /  /p' "$work/download.log" >&2
    say "the mirror does not serve openssl $version's files; trying the next version"
    rm -rf "$work"
    continue
  fi
  dsc=$work/openssl_${version#*:}.dsc
  expected=$(dsc_sha256 "$version")
  actual=$(sha256sum "$dsc" | cut -d' ' -f1)
  [ "$actual" = "$expected" ] || fail "$dsc has SHA-256 $actual, the signed index says $expected"
  say "unpacking with Debian's patches (dpkg-source -x)"
  (cd "$work" && dpkg-source -q -x "$dsc" src) >"$work/unpack.log" 2>&1 \
    || { cat "$work/unpack.log" >&2; fail "dpkg-source -x $dsc failed"; }
  say "configuring: ${options[*]} ${cflags[*]}"
  log=$work/build.log
  (cd "$work/src" && ./Configure linux-x86_64 "${options[@]}" "${cflags[@]}" CC="$cc" \
      --prefix="$prefix" --openssldir="$openssldir" --libdir=lib) >"$log" 2>&1 \
    || { tail -n 30 "$log" >&2; fail "Configure failed (log: $log)"; }
  started=$(date +%s)
  say "building libssl and libcrypto (make -j${OPENSSL_JOBS:-2} build_libs; a few minutes)"
  (cd "$work/src" && nice -n 10 make -j"${OPENSSL_JOBS:-2}" build_libs && make install_dev) >>"$log" 2>&1 \
    || { tail -n 30 "$log" >&2; fail "make failed (log: $log)"; }
  rm -rf "$prefix/lib/pkgconfig"
  printf 'version %s\ndsc-sha256 %s\nconfigure linux-x86_64 %s %s CC=%s --openssldir=%s\n' \
    "$version" "$expected" "${options[*]}" "${cflags[*]}" "$cc" "$openssldir" >"$prefix/.complete"
  rm -rf "$work"
  say "built openssl $version in $(( $(date +%s) - started )) s: $prefix"
  echo "$prefix"
  exit 0
done
fail "the mirror serves none of openssl ${candidates[*]}: no network? The shipped binary needs this lean OpenSSL; nothing was built"

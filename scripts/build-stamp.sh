# Sourced by scripts/build-static.sh and scripts/build-embedded.sh: sets
# `stamp_defines` to the C defines (-DNW_BUILD_...="...") that --version reports
# besides the version (Sources/CBuildStamp/stamp.h): the commit (NW_REVISION,
# else git's HEAD with -dirty for local changes), the build date (NW_CREATED,
# else SOURCE_DATE_EPOCH, else now; RFC 3339 UTC) and the compiler. A plain
# `swift build` reports "unknown" for these.
commit=${NW_REVISION:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
if [ -z "${NW_REVISION:-}" ] && [ "$commit" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit=$commit-dirty
fi
created=${NW_CREATED:-$(date -u ${SOURCE_DATE_EPOCH:+-d @$SOURCE_DATE_EPOCH} +%Y-%m-%dT%H:%M:%SZ)}
compiler=$(swift --version 2>/dev/null | sed -n 's/.*Swift version \([^ ]*\).*/\1/p' | head -1)
stamp() { printf -- '-DNW_BUILD_%s="%s"' "$1" "$(printf %s "$2" | tr -d '"\\')"; }
stamp_defines=("$(stamp COMMIT "$commit")" "$(stamp DATE "$created")" "$(stamp SWIFT "${compiler:-unknown}")")

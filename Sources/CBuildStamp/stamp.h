#ifndef CBUILDSTAMP_STAMP_H
#define CBUILDSTAMP_STAMP_H

// What scripts/build-static.sh knows at build time, passed as -Xcc -DNW_BUILD_...="...".
// A plain `swift build` gets these fallbacks.
#ifndef NW_BUILD_COMMIT
#define NW_BUILD_COMMIT "unknown"
#endif
#ifndef NW_BUILD_DATE
#define NW_BUILD_DATE "unknown"
#endif
#ifndef NW_BUILD_SWIFT
#define NW_BUILD_SWIFT "unknown"
#endif

static inline const char *nw_build_commit(void) { return NW_BUILD_COMMIT; }
static inline const char *nw_build_date(void) { return NW_BUILD_DATE; }
static inline const char *nw_build_swift(void) { return NW_BUILD_SWIFT; }

#endif

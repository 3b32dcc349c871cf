#!/usr/bin/env bash
# Fails, listing each line, when a raw C library call appears in Sources/ outside
# the fence (HTTPLite/System.swift) and the OpenSSL files (TLSContext, TLSSession).
# The fence's wrappers are always called as `System.name(...)`, so a bare or
# module-qualified call (`read(`, `Glibc.read(`) is a raw one. Declarations
# (`func read(`) and comments are not calls.
#   scripts/check-fence.sh [SOURCES-DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
sources=${1:-Sources}

calls='socket|connect|bind|listen|accept|accept4|send|sendto|recv|recvfrom|setsockopt|getsockopt|shutdown'
calls+='|close|poll|ppoll|select|epoll_[a-z_]+|fcntl|ioctl|read|write|pread|pwrite|readv|writev|open|openat|creat'
calls+='|fstat|stat|lstat|access|unlink|pipe|pipe2|dup|dup2|posix_spawnp?|posix_spawn_[a-z_]+|posix_spawnattr_[a-z_]+'
calls+='|fork|vfork|exec[lv][pe]*|waitpid|wait|wait4|kill|raise|signal|sigaction|sigprocmask|pthread_sigmask'
calls+='|sigemptyset|sigaddset|sigfillset|signalfd|getenv|setenv|unsetenv|exit|_exit|abort|clock_gettime'
calls+='|gettimeofday|time|gmtime_r|localtime_r|timegm|mktime|nanosleep|usleep|sleep|getaddrinfo|freeaddrinfo|gai_strerror'
calls+='|inet_pton|inet_ntop|strerror|strdup|malloc|calloc|realloc|free|getrusage|getpid|isatty|fopen|fwrite|fputs|puts'
# A call: the name not preceded by `.`, a word character, `func ` or `case `
# (a method or an enum case of that name); or one of libc's globals read
# directly (not an argument label such as `errno:`).
pattern="((?<![.\\w])(?<!func )(?<!case )(${calls})\\s*\\(|(Glibc|CSystem)\\.|\\b(errno|environ)\\b(?!:))"

found=$(grep -rnP --include='*.swift' "$pattern" "$sources" \
  | grep -vE '^[^:]+/(HTTPLite/System|HTTPLite/TLSContext|HTTPLite/TLSSession)\.swift:' \
  | grep -vP '^[^:]+:[0-9]+:\s*(//|///)' \
  | while IFS= read -r line; do
      # Drop a trailing comment before matching again, so `x() // read(2)` is no hit.
      code=$(printf '%s' "$line" | sed -E 's#^([^:]+:[0-9]+:)(.*)#\2#; s#[[:space:]]//[^"]*$##')
      if printf '%s' "$code" | grep -qP "$pattern"; then printf '%s\n' "$line"; fi
    done || true)
if [ -n "$found" ]; then
  echo "raw C library calls outside Sources/HTTPLite/System.swift (call them through System):" >&2
  echo "$found" >&2
  exit 1
fi
echo "fence holds: no raw C library call outside System.swift and the TLS files"

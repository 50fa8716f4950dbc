#!/usr/bin/env bash
# Runs a command as if the disk took longer to fsync: an LD_PRELOAD shim makes every fsync() and
# fdatasync() of the command and its children sleep SLOW_FSYNC_US microseconds (default 2000)
# first, then do the real call. For measuring how dlrgate's commits behave on slower disks than
# this machine's (~0.2 ms per fsync), e.g.
#   SLOW_FSYNC_US=3000 bash bench/slow-fsync.sh target/release/dlrgate bench --messages 20000
# Needs a C compiler (cc). Nothing is installed; the shim is built in a temporary directory.
set -euo pipefail
if [ $# -eq 0 ]; then
  echo "usage: SLOW_FSYNC_US=N bash bench/slow-fsync.sh COMMAND [ARGS...]" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/slowsync.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
static void pause_first(void) {
  const char *text = getenv("SLOW_FSYNC_US");
  long us = text ? atol(text) : 2000;
  struct timespec t = { us / 1000000, (us % 1000000) * 1000 };
  nanosleep(&t, 0);
}
int fsync(int fd) {
  static int (*real)(int) = 0;
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  pause_first();
  return real(fd);
}
int fdatasync(int fd) {
  static int (*real)(int) = 0;
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  pause_first();
  return real(fd);
}
C
cc -shared -fPIC -O2 -o "$work/slowsync.so" "$work/slowsync.c" -ldl
export SLOW_FSYNC_US="${SLOW_FSYNC_US:-2000}"
LD_PRELOAD="$work/slowsync.so" "$@"

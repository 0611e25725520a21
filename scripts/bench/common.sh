# shellcheck shell=bash
# Shared by the benchmarks: run as the unprivileged test user (re-exec when started as root), a
# private tsctr store per run, and podman in its fastest rootless setup (runc, native overlay), both
# pulling through the same local mirror.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ "$(id -u)" -eq 0 ]; then
  source "$here/scripts/fixtures/env.sh"
  exec runuser -u "$TSCTR_TEST_USER" -- env -i HOME="$(getent passwd "$TSCTR_TEST_USER" | cut -d: -f6)" USER="$TSCTR_TEST_USER" \
    XDG_RUNTIME_DIR="/run/user/$(id -u "$TSCTR_TEST_USER")" PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
    TSCTR_BIN="${TSCTR_BIN:-}" SLOW="${SLOW:-}" TSCTR_NETWORK="${TSCTR_NETWORK:-}" RUNS="${RUNS:-}" WRK_SECONDS="${WRK_SECONDS:-}" BULK_RUNS="${BULK_RUNS:-}" "$0" "$@"
fi
tsctr=${TSCTR_BIN:-$here/dist/tsctr}
[ -x "$tsctr" ] || { echo "build first: npm run build" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine is missing: apt-get install hyperfine" >&2; exit 1; }
work=$(mktemp -d /var/tmp/tsctr-bench.XXXXXX)
export TSCTR_ROOT=$work/tsctr
# tsctr's code caches and extracted helpers live in XDG_CACHE_HOME, one build's at a time (a build
# deletes the caches of others): a private one, so that another build run meanwhile by the same
# user (tests of another checkout) cannot make every command compile from scratch.
export XDG_CACHE_HOME=$work/cache
podman=(podman --runtime runc)
bench_cleanup() {
  "$tsctr" rm -f $("$tsctr" ps -aq) >/dev/null 2>&1 || true
  unshare --map-auto --map-root-user rm -rf "$work" 2>/dev/null || true
}
trap bench_cleanup EXIT

# hyperfine's JSON → mean and median seconds of command N
stat_of() { jq -r ".results[$2].$3" "$1"; }
ratio() { awk "BEGIN{printf \"%.2f\", $1 / $2}"; }

# SLOW=1: a slow start, as on a machine where `node -e 0` takes ~65 ms: every engine command runs
# on CPU 0 only (taskset), which a busy loop shares with it for the whole benchmark.
slow=()
if [ "${SLOW:-0}" = 1 ]; then
  slow=(taskset -c 0)
  taskset -c 0 sh -c 'while :; do :; done' &
  hog=$!
  trap 'kill $hog 2>/dev/null; bench_cleanup' EXIT
fi

#!/usr/bin/env bash
# The test suite, exactly as CI runs it. Needs root once, to prepare the host (packages, the
# unprivileged test user with subuid/subgid ranges, the local registries and their images); the
# tests themselves then run as that unprivileged user, because tsctr's point is rootless.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "$0: run it as root (sudo is not installed)" >&2; exit 1; }
  exec sudo -E "$0" "$@"
fi

bash scripts/setup-host.sh
bash scripts/fixtures/registry.sh start
bash scripts/fixtures/build-images.sh
# shellcheck source=fixtures/env.sh
source scripts/fixtures/env.sh

[ -d node_modules ] || npm ci --no-audit --no-fund
[ -x dist/tsctr ] || npm run build

# The test user must be able to read the checkout; a clone under /root is not, so use a copy.
src="$here"
if ! runuser -u "$TSCTR_TEST_USER" -- test -r "$here/package.json" -a -x "$here/node_modules"; then
  src=/var/tmp/tsctr-under-test
  rm -rf "$src"
  mkdir -p "$src"
  cp -a "$here/." "$src/"
  chmod -R a+rX "$src"
fi

# A cgroup v2 subtree delegated to the test user, as systemd delegates user@UID.service: the tests
# run in its leaf "session"; tsctr puts containers with limits beside it (tsctr/<id>). This host's
# cgroup v2 may have no controllers (v1/v2 hybrid): then the containers get cgroups that limit
# nothing, and the limits are reported as ignored, each by name.
cg=$(findmnt -n -t cgroup2 -o TARGET | head -1)
if [ -n "$cg" ]; then
  delegated="$cg/$TSCTR_TEST_USER.slice"
  mkdir -p "$delegated/session"
  for c in $(cat "$cg/cgroup.controllers"); do echo "+$c" > "$cg/cgroup.subtree_control" 2>/dev/null || true; done
  chown "$TSCTR_TEST_USER:" "$delegated" "$delegated"/cgroup.{procs,subtree_control,threads}
  chown -R "$TSCTR_TEST_USER:" "$delegated/session"
  echo $$ > "$delegated/session/cgroup.procs"
fi

uid=$(id -u "$TSCTR_TEST_USER")
home=$(getent passwd "$TSCTR_TEST_USER" | cut -d: -f6)
runtime=/run/user/$uid
cd "$src"
if [ $# -eq 0 ]; then
  # Two real users: this one runs as root and switches between them itself.
  TSCTR_BIN="$src/dist/tsctr" bash test/cross-user.sh
  set -- test/unit/*.test.ts test/e2e/*.test.ts
fi
# A clean environment, as a login would give: nothing of root's leaks into the tests.
exec runuser -u "$TSCTR_TEST_USER" -- env -i \
  HOME="$home" USER="$TSCTR_TEST_USER" LOGNAME="$TSCTR_TEST_USER" \
  PATH="$src/node_modules/.bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" \
  XDG_RUNTIME_DIR="$runtime" LANG=C.UTF-8 \
  REGISTRY="$REGISTRY" AUTH_REGISTRY="$AUTH_REGISTRY" TOKEN_REGISTRY="$TOKEN_REGISTRY" \
  TOKEN_SERVER="$TOKEN_SERVER" AUTH_USER="$AUTH_USER" AUTH_PASS="$AUTH_PASS" \
  TSCTR_BIN="$src/dist/tsctr" \
  node --import tsx --test --test-concurrency=1 --test-reporter=spec "$@"

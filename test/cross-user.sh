#!/usr/bin/env bash
# One user cannot list, inspect or stop another user's containers (issue: "Must hold"). Needs two
# real users, so it runs as root (scripts/test.sh calls it before the node tests): the test user
# runs a container with tsctr's default locations; a second plain user, without subordinate ids,
# then tries everything against that user's store and runtime dir, and must fail at each step.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../scripts/fixtures/env.sh
source "$here/scripts/fixtures/env.sh"
[ "$(id -u)" -eq 0 ] || { echo "cross-user.sh: run as root" >&2; exit 1; }
bin=${TSCTR_BIN:-$here/dist/tsctr}
owner=$TSCTR_TEST_USER
other=tsctr-other
getent passwd "$other" >/dev/null || useradd --create-home --shell /bin/bash --user-group "$other"

as() { # user cmd...: a login-like environment for that user
  local u=$1 uid
  shift
  uid=$(id -u "$u")
  install -d -m 0700 -o "$u" -g "$(id -g "$u")" "/run/user/$uid"
  runuser -u "$u" -- env -i HOME="$(getent passwd "$u" | cut -d: -f6)" USER="$u" PATH=/usr/local/bin:/usr/bin:/bin \
    XDG_RUNTIME_DIR="/run/user/$uid" "$@"
}
fails=0
check() { # description, then a command that must fail
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then
    echo "not ok - $what"
    fails=$((fails + 1))
  else
    echo "ok - $what"
  fi
}

ohome=$(getent passwd "$owner" | cut -d: -f6)
ouid=$(id -u "$owner")
store=$ohome/.local/share/tsctr
run=/run/user/$ouid/tsctr
name=cross-user-$$
as "$owner" "$bin" run -d --name "$name" busybox sleep 300 >/dev/null
trap 'as "$owner" "$bin" rm -f "$name" >/dev/null 2>&1 || true' EXIT
monitor=$(cat "$run/containers/$(as "$owner" "$bin" inspect -f '{{.Id}}' "$name")/monitor.pid")

check "another user cannot list the containers (ps -a on the owner's store)" \
  sh -c "$(printf '%q ' as "$other" "$bin" --root "$store" --runroot "$run" ps -a) | grep -q $name"
check "another user cannot read the container index" as "$other" cat "$store/containers.json"
check "another user cannot inspect it" as "$other" "$bin" --root "$store" --runroot "$run" inspect "$name"
check "another user cannot stop it" as "$other" "$bin" --root "$store" --runroot "$run" stop -t 1 "$name"
check "another user cannot remove it" as "$other" "$bin" --root "$store" --runroot "$run" rm -f "$name"
check "another user cannot signal its monitor" as "$other" kill -TERM "$monitor"
check "another user cannot read its log" as "$other" cat "$store/containers/"*/ctr.log
check "another user cannot enter the runtime dir" as "$other" ls "$run"
# The cgroup scripts/test.sh delegates to the owner is the owner's alone.
cgmount=$(findmnt -n -t cgroup2 -o TARGET | head -1)
mine=$cgmount$(awk -F: '$1 == "0" {print $3}' /proc/self/cgroup)
if [ -n "$cgmount" ] && [ "$(stat -c %U "$mine/cgroup.procs")" = "$owner" ]; then
  check "another user cannot move a process into the owner's delegated cgroup" as "$other" sh -c "echo \$\$ > '$mine/cgroup.procs'"
fi
# Outside a delegated cgroup, limits are one clear warning and the container runs anyway;
# --pids-limit still holds for each uid of the container (RLIMIT_NPROC in its user namespace).
if [ -n "$cgmount" ]; then
  out=$( (echo "$BASHPID" > "$cgmount/cgroup.procs" && as "$owner" "$bin" run --rm --memory 64m --pids-limit 10 busybox sh -c 'ulimit -u') 2>&1) && rc=0 || rc=$?
  if [ "$rc" = 0 ] && grep -q "^WARNING: --memory ignored: .* the container runs without these limits" <<<"$out" &&
    grep -q "^WARNING: --pids-limit applies to each user of the container separately" <<<"$out" && grep -qx 10 <<<"$out"; then
    echo "ok - without delegation --memory is one warning, --pids-limit holds per uid, and the container runs"
  else
    echo "not ok - without delegation --memory is one warning, --pids-limit holds per uid, and the container runs (exit $rc: $out)"
    fails=$((fails + 1))
  fi
fi
if as "$owner" "$bin" ps --filter "name=^$name\$" --format '{{.Status}}' | grep -q '^Up '; then
  echo "ok - the container still runs"
else
  echo "not ok - the container still runs"
  fails=$((fails + 1))
fi
# Without XDG_RUNTIME_DIR the run root falls back to /tmp/tsctr-run-UID: another user who made
# it first (world-writable, with a pid file naming one of the other user's processes) must not
# get the owner's tsctr to read or signal anything there.
trap_dir=/tmp/tsctr-run-$ouid
rm -rf "$trap_dir"
as "$other" sleep 300 &
decoy=$!
disown "$decoy"
sleep 0.2
decoy_sleep=$(pgrep -u "$other" -n -x sleep || echo "$decoy")
cid=$(as "$owner" "$bin" inspect -f '{{.Id}}' "$name")
as "$other" sh -c "mkdir -m 0777 '$trap_dir' && mkdir -p '$trap_dir/containers/$cid' && echo $decoy_sleep > '$trap_dir/containers/$cid/pid' && chmod -R 0777 '$trap_dir'"
no_xdg() { runuser -u "$owner" -- env -i HOME="$ohome" USER="$owner" PATH=/usr/local/bin:/usr/bin:/bin "$@"; }
out=$(no_xdg "$bin" kill "$name" 2>&1) && rc=0 || rc=$?
if [ "$rc" != 0 ] && grep -q "^Error: the run root $trap_dir is not owned by the current user" <<<"$out" && kill -0 "$decoy_sleep" 2>/dev/null; then
  echo "ok - a run root another user made in /tmp is refused with a clear error"
else
  echo "not ok - a run root another user made in /tmp is refused with a clear error (exit $rc: $out)"
  fails=$((fails + 1))
fi
kill "$decoy" "$decoy_sleep" 2>/dev/null || true
rm -rf "$trap_dir"
stat -c '%a %n' "$store" "$run" | while read -r mode path; do
  [ "$mode" = 700 ] && echo "ok - $path is 0700" || { echo "not ok - $path is $mode, not 0700"; exit 1; }
done || fails=$((fails + 1))
[ "$fails" -eq 0 ] || { echo "cross-user.sh: $fails check(s) failed" >&2; exit 1; }

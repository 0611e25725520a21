#!/usr/bin/env bash
# Standalone tests of dist/tsctr-shim against a busybox rootfs.
#
#   test/shim/run.sh
#
# As root: builds the shim if needed, then runs the tests as the unprivileged user
# $TSCTR_TEST_USER (default tsctr-test; a throwaway user with /etc/subuid ranges is created and
# removed if it does not exist). As a normal user (with /etc/subuid entries): runs as that user.
# Prints PASS/FAIL lines and "N passed, N failed"; exits non-zero if anything failed.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SHIM=${TSCTR_SHIM:-$ROOT/dist/tsctr-shim}

if [[ $(id -u) == 0 && -z "${TSCTR_SHIM_TEST_INNER:-}" ]]; then
	make -s -C "$ROOT/src/shim" || exit 1
	user=${TSCTR_TEST_USER:-tsctr-test}
	created=
	if ! id "$user" >/dev/null 2>&1; then
		user=tsctr-shimtest
		useradd -M -s /bin/bash "$user" || exit 1
		created=1
	fi
	if ! grep -q "^$user:" /etc/subuid || ! grep -q "^$user:" /etc/subgid; then
		usermod --add-subuids 200000-265535 --add-subgids 200000-265535 "$user" || exit 1
	fi
	T=$(mktemp -d /tmp/tsctr-shim-test.XXXXXX)
	chmod 755 "$T"
	chown "$user:" "$T"
	echo "running as $user in $T"
	runuser -u "$user" -- env TSCTR_SHIM_TEST_INNER=1 TSCTR_SHIM="$SHIM" T="$T" bash "$HERE/run.sh"
	rc=$?
	if [[ -n ${TSCTR_TEST_KEEP:-} ]]; then echo "kept $T"; else rm -rf "$T" /var/tmp/tsctr-shim-marker.*; fi
	if [[ -n $created ]]; then
		userdel "$user"
		sed -i "/^$user:/d" /etc/subuid /etc/subgid
	fi
	exit $rc
fi

# ---------------------------------------------------------------- as the unprivileged user
OWN_T=
[[ -n ${T:-} ]] || { T=$(mktemp -d /tmp/tsctr-shim-test.XXXXXX); OWN_T=1; }
cleanup() {
	# Containers a failed test left running are found through their pid files.
	for f in "$T"/c/*/monitor.pid "$T"/c/*/pid; do
		[[ -f $f ]] && kill -KILL "$(cut -d" " -f1 "$f")" 2>/dev/null
	done
	# Run directly by a user: files of subordinate uids need the user namespace to go.
	if [[ -n $OWN_T && -z ${TSCTR_TEST_KEEP:-} ]]; then
		sleep 0.2
		unshare --map-auto --map-root-user rm -rf "$T" 2>/dev/null || rm -rf "$T" 2>/dev/null
		rm -f "${MARKER:-}"
	fi
}
trap cleanup EXIT
PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
eq() { if [[ "$2" == "$3" ]]; then pass "$1"; else fail "$1 (got '$2', want '$3')"; fi; }
match() { if [[ "$2" =~ $3 ]]; then pass "$1"; else fail "$1 (got '$2', want /$3/)"; fi; }
nomatch() { if [[ ! "$2" =~ $3 ]]; then pass "$1"; else fail "$1 (got '$2', must not match /$3/)"; fi; }
ok() { local d=$1; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }

ME=$(id -un) MYUID=$(id -u) MYGID=$(id -g)
SUBUID=$(awk -F: -v u="$ME" '$1 == u { print $2; exit }' /etc/subuid)
SUBGID=$(awk -F: -v u="$ME" '$1 == u { print $2; exit }' /etc/subgid)
[[ -n $SUBUID && -n $SUBGID ]] || { echo "no /etc/subuid or /etc/subgid entry for $ME"; exit 1; }
[[ -x $SHIM ]] || { echo "$SHIM not built"; exit 1; }

# --- busybox image
L=$T/lower
mkdir -p "$L/bin" "$L/etc" "$L/data" "$L/root" "$L/tmp"
cp /bin/busybox "$L/bin/busybox"
for a in $("$L/bin/busybox" --list); do [[ $a == busybox ]] || ln -s busybox "$L/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' >"$L/etc/passwd"
printf 'root:x:0:\ntty:x:5:\nwww-data:x:33:\nnogroup:x:65534:\n' >"$L/etc/group"
echo original >"$L/data/lowerfile"
echo doomed >"$L/data/doomed"
ln -s /../../../../../../../../../../$T/hostside "$L/escape-link"
MARKER=$(mktemp /var/tmp/tsctr-shim-marker.XXXXXX)
cat >"$T/escape.c" <<'EOF'
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	mkdir("/escape-x", 0755);
	if (chroot("/escape-x") != 0) { perror("chroot"); return 2; }
	for (int i = 0; i < 64; i++) chdir("..");
	if (chroot(".") != 0) { perror("chroot ."); return 2; }
	chdir("/");
	printf("%s %s\n", access(argv[1], F_OK) == 0 ? "ESCAPED" : "contained",
	       access("/home", F_OK) == 0 ? "home-visible" : "no-home");
	fflush(stdout);
	return 0;
}
EOF
cc -static -O2 -o "$L/bin/escape" "$T/escape.c" || { echo "cannot build the escape helper"; exit 1; }
cc -static -O2 -o "$L/bin/syscall-probe" "$ROOT/test/support/syscall-probe.c" || { echo "cannot build the syscall probe"; exit 1; }

DEFAULT_CAPS=(CAP_CHOWN CAP_DAC_OVERRIDE CAP_FSETID CAP_FOWNER CAP_MKNOD CAP_NET_RAW CAP_SETGID
	CAP_SETUID CAP_SETFCAP CAP_SETPCAP CAP_NET_BIND_SERVICE CAP_SYS_CHROOT CAP_KILL CAP_AUDIT_WRITE)

# new_ctr NAME: fresh dirs in $D, base keys in SPEC
new_ctr() {
	D=$T/c/$1
	mkdir -p "$D/upper" "$D/work" "$D/rootfs"
	SPEC=(id "$1" rootfs "$D/rootfs" lower "$L" upper "$D/upper" work "$D/work" storage overlay
		uidmap "0 $MYUID 1" uidmap "1 $SUBUID 65536" gidmap "0 $MYGID 1" gidmap "1 $SUBGID 65536"
		hostname "h-$1" network none log "$D/log" pid-file "$D/pid" exit-file "$D/exit"
		monitor-pid-file "$D/monitor.pid" env PATH=/usr/local/bin:/usr/bin:/bin env HOME=/root
		cwd / uid 0 gid 0 groups "" no-new-privs 1)
	for c in "${DEFAULT_CAPS[@]}"; do SPEC+=(cap "$c"); done
}
args() { for a in "$@"; do SPEC+=(arg "$a"); done; }
write_spec() { printf '%s\0' "${SPEC[@]}" >"$1"; }
# run_fg: attached run; sets RC OUT ERR SYNC
run_fg() {
	write_spec "$D/spec"
	printf '%s\0' attach 1 >>"$D/spec"
	"$SHIM" run "$D/spec" 3>"$D/sync" >"$D/out" 2>"$D/err" <"${STDIN:-/dev/null}"
	RC=$?
	OUT=$(cat "$D/out") ERR=$(cat "$D/err") SYNC=$(cat "$D/sync")
}
# run_bg: detached run; sets RC SYNC CPID (container pid) MPID (monitor pid)
run_bg() {
	write_spec "$D/spec"
	"$SHIM" run "$D/spec" 3>"$D/sync" >/dev/null 2>"$D/err"
	RC=$?
	# Pid files hold "PID STARTTIME" (the start time guards against pid reuse).
	SYNC=$(cat "$D/sync") CPID=${SYNC#ok } MPID=$(cut -d' ' -f1 "$D/monitor.pid" 2>/dev/null)
}
wait_gone() { for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done; return 1; }
wait_file() { for _ in $(seq 100); do [[ -s $1 ]] && return 0; sleep 0.05; done; return 1; }
no_mounts() { ! grep -q "$T/c/" /proc/self/mountinfo; }

echo "== 1. identity, hostname, pid namespace, root"
new_ctr basic
args sh -c 'id; hostname; cat /proc/1/cmdline | tr "\0" " "; echo; ps -o pid,comm | tail -n +2 | wc -l; ls /'
run_fg
eq "exit 0" "$RC" 0
match "sync says ok" "$SYNC" '^ok [0-9]+$'
match "id is root" "$OUT" 'uid=0\(root\) gid=0\(root\)'
match "hostname" "$OUT" $'\nh-basic\n'
match "pid 1 is the command" "$OUT" $'\nsh -c id;'
match "only the container's processes (sh, ps, tail, wc)" "$OUT" $'\n[1-4]\n'
match "ls / shows the image" "$OUT" $'\nbin\ndata\ndev\nescape-link\netc\nproc\nroot\nsys\ntmp'
nomatch "ls / does not show the host" "$OUT" $'\n(home|usr|var|work)\n'

echo "== 2. exit code, stdout/stderr, log"
new_ctr streams
args sh -c 'echo to-out; echo to-err >&2; printf partial; exit 7'
run_fg
eq "exit code propagates" "$RC" 7
eq "stdout on fd 1" "$OUT" $'to-out\npartial'
eq "stderr on fd 2" "$ERR" "to-err"
LOG=$(cat "$D/log")
match "log o F line" "$LOG" '(^|'$'\n'')[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z o F to-out'
# Compact records after the first: `+N` (ns after the one before) or `=` (same time) instead of a stamp.
match "log stderr F line" "$LOG" '(^|'$'\n'')(\+[0-9]+|=) e F to-err'
match "log partial line is P" "$LOG" '(^|'$'\n'')(\+[0-9]+|=) o P partial'
eq "exit file" "$(cut -d' ' -f1 "$D/exit")" 7
match "exit file time" "$(cat "$D/exit")" '^7 [0-9-]{10}T[0-9:]{8}\.[0-9]{9}Z$'

echo "== 3. exec errors"
new_ctr notfound
args nope
run_fg
eq "not found: exit 127" "$RC" 127
eq "not found: sync" "$SYNC" 'error 127 exec: "nope": executable file not found in $PATH'
eq "not found: stderr" "$ERR" 'Error: exec: "nope": executable file not found in $PATH'
new_ctr nopath
args /nope
run_fg
eq "missing path: 127" "$SYNC" 'error 127 exec: "/nope": stat /nope: no such file or directory'
new_ctr isdir
args /etc
run_fg
eq "directory: 126" "$RC:$SYNC" '126:error 126 exec: "/etc": is a directory'
new_ctr noexec
args /etc/passwd
run_fg
eq "not executable: 126" "$RC:$SYNC" '126:error 126 exec: "/etc/passwd": permission denied'
ok "failed starts leave no mounts" no_mounts
ok "failed starts leave no processes" bash -c "! pgrep -u $ME -f '[t]sctr-shim run $T/c/(notfound|nopath|isdir|noexec)'"

echo "== 4. overlay: ownership, copy-up, whiteouts"
new_ctr overlay
args sh -c 'touch /x && chown 33:33 /x && echo changed >> /data/lowerfile && rm /data/doomed && cat /data/lowerfile'
run_fg
eq "exit 0" "$RC" 0
eq "file as uid 33 is owned by subuid+32 on the host" "$(stat -c %u:%g "$D/upper/x")" "$((SUBUID + 32)):$((SUBGID + 32))"
eq "lower untouched" "$(cat "$L/data/lowerfile")" original
eq "copied up" "$(cat "$D/upper/data/lowerfile")" $'original\nchanged'
eq "whiteout is a 0/0 char device" "$(stat -c %F:%t:%T "$D/upper/data/doomed")" "character special file:0:0"
ok "lower file still there" test -f "$L/data/doomed"

echo "== 5. masked and read-only /proc, no chroot escape"
new_ctr security
args sh -c '
	echo h > /proc/sysrq-trigger 2>/dev/null && echo sysrq-writable || echo sysrq-ro
	echo kcore=$(cat /proc/kcore | wc -c)
	echo x > /proc/sys/kernel/domainname 2>/dev/null && echo sys-writable || echo sys-ro
	ls /proc/acpi 2>/dev/null | wc -l
	escape '"$MARKER"'
	ls /escape-x >/dev/null && echo done'
run_fg
match "sysrq-trigger not writable" "$OUT" sysrq-ro
match "/proc/kcore reads empty" "$OUT" kcore=0
match "/proc/sys read-only" "$OUT" sys-ro
match "chroot trick stays inside" "$OUT" 'contained no-home'
nomatch "host marker not visible" "$OUT" ESCAPED

echo "== 6. detached run, pid/exit files, cleanup"
new_ctr detached
SPEC+=(exit-command /bin/sh exit-command -c exit-command "echo cleaned > $D/cleanup")
args sleep 30
t0=$EPOCHREALTIME
run_bg
t1=$EPOCHREALTIME
eq "launcher exits 0" "$RC" 0
match "sync ok PID" "$SYNC" '^ok [0-9]+$'
ok "launcher returned immediately (<2s)" awk "BEGIN { exit !($t1 - $t0 < 2) }"
eq "pid file" "$(cut -d' ' -f1 "$D/pid")" "$CPID"
ok "monitor alive" kill -0 "$MPID"
eq "container process is sleep" "$(tr '\0' ' ' </proc/"$CPID"/cmdline)" "sleep 30 "
MEM=$(awk '/^Private_Dirty/ { print $2 }' /proc/"$MPID"/smaps_rollup)
RSS=$(awk '/^Rss/ { print $2 }' /proc/"$MPID"/smaps_rollup)
echo "   monitor memory: Private_Dirty ${MEM} kB, Rss ${RSS} kB"
ok "monitor private dirty < 3 MB" test "$MEM" -lt 3072
kill -KILL "$CPID"
ok "exit file written" wait_file "$D/exit"
eq "exit code 137" "$(cut -d' ' -f1 "$D/exit")" 137
ok "monitor exited" wait_gone "$MPID"
eq "exit command ran" "$(cat "$D/cleanup" 2>/dev/null)" cleaned
ok "no processes left" bash -c "! pgrep -u $ME -f '[t]sctr-shim run $D/spec' && ! kill -0 $CPID 2>/dev/null"
ok "no mounts left on the host" no_mounts

echo "== 7. exec into a running container"
new_ctr target
args sleep 30
run_bg
TARGET=$CPID TD=$D
exec_spec() { # exec_spec FILE key value ... -- args
	local f=$1; shift
	ES=(pid "$TARGET" cwd / uid 0 gid 0 groups "" env PATH=/bin attach 1)
	for c in "${DEFAULT_CAPS[@]}"; do ES+=(cap "$c"); done
	while [[ $1 != -- ]]; do ES+=("$1" "$2"); shift 2; done
	shift
	for a in "$@"; do ES+=(arg "$a"); done
	printf '%s\0' "${ES[@]}" >"$f"
}
exec_spec "$TD/e1" -- sh -c 'hostname; ps -o pid,comm | tail -n +2; exit 5'
"$SHIM" exec "$TD/e1" 3>"$TD/esync" >"$TD/eout" 2>"$TD/eerr"
RC=$?
EOUT=$(cat "$TD/eout")
eq "exec exit code" "$RC" 5
match "exec sync ok" "$(cat "$TD/esync")" '^ok [0-9]+$'
match "exec hostname" "$EOUT" '^h-target'
match "exec sees pid 1 sleep" "$EOUT" $'\n *1 sleep'
match "exec sees itself" "$EOUT" $'\n *[0-9]+ (sh|ps)'
exec_spec "$TD/e2" uid 33 gid 33 groups 65534 -- id
eq "exec as uid 33" "$("$SHIM" exec "$TD/e2" 2>&1)" "uid=33(www-data) gid=33(www-data) groups=65534(nogroup)"
exec_spec "$TD/e3" -- nope
"$SHIM" exec "$TD/e3" 3>"$TD/esync" >/dev/null 2>&1
eq "exec not found: 127" "$?:$(cat "$TD/esync")" '127:error 127 exec: "nope": executable file not found in $PATH'
exec_spec "$TD/e4" detach 1 -- sh -c "echo detached-exec > /tmp/marker; sleep 1"
"$SHIM" exec "$TD/e4" 3>"$TD/esync"
eq "exec -d returns 0" "$?" 0
sleep 0.3
exec_spec "$TD/e5" -- cat /tmp/marker
eq "exec -d ran" "$("$SHIM" exec "$TD/e5")" detached-exec
exec_spec "$TD/e6" stdin 1 -- sh -c 'read x; echo "got $x"'
eq "exec stdin" "$(echo hello | "$SHIM" exec "$TD/e6")" "got hello"
exec_spec "$TD/e7" tty 1 stdin 1 -- sh -c 'tty; exit 3'
EOUT=$(script -qec "$SHIM exec $TD/e7" /dev/null </dev/null)
eq "exec tty exit code" "$?" 3
match "exec tty is a pty" "$EOUT" '/dev/pts/[0-9]+'

echo "== 10. network (checked while the target runs: joins its netns)"
new_ctr net
args sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; cat /sys/class/net/lo/operstate /sys/class/net/lo/flags; ping -c1 -W1 127.0.0.1 >/dev/null 2>&1 && echo ping-ok || echo ping-failed'
run_fg
eq "network none: only lo, up" "$OUT" $'lo\nunknown\n0x9\nping-ok'
new_ctr joined
SPEC+=(network "netns:/proc/$TARGET/ns/net")
args readlink /proc/self/ns/net
run_fg
eq "netns: joins the other container's netns" "$OUT" "$(readlink /proc/"$TARGET"/ns/net)"
new_ctr hostnet
SPEC+=(network host)
args sh -c 'readlink /proc/self/ns/net; ls /sys/class/net | wc -l'
run_fg
eq "network host: host netns" "$(head -1 <<<"$OUT")" "$(readlink /proc/self/ns/net)"
new_ctr sharedns
NS=()
for ((i = 0; i < ${#SPEC[@]}; i += 2)); do
	case ${SPEC[$i]} in uidmap | gidmap) ;; *) NS+=("${SPEC[$i]}" "${SPEC[$i + 1]}") ;; esac
done
SPEC=("${NS[@]}" userns "/proc/$TARGET/ns/user")
args readlink /proc/self/ns/user
run_fg
eq "userns: joins an existing user namespace" "$OUT" "$(readlink /proc/"$TARGET"/ns/user)"
kill -KILL "$TARGET"
wait_file "$TD/exit"

echo "== 8. init"
new_ctr init
SPEC+=(init 1)
args sh -c 'echo pid=$$; tr "\0" " " < /proc/1/cmdline; echo; sh -c "sleep 0.2 &"; sleep 0.6; grep -l "^State:.*Z" /proc/[0-9]*/status | wc -l; exit 4'
run_fg
eq "init: exit code" "$RC" 4
match "init: command is pid 2" "$OUT" '^pid=2'
match "init: pid 1 is the shim init" "$OUT" $'\n/dev/.tsctr-init init -- sh -c'
match "init: orphan zombie reaped" "$OUT" $'\n0$'
new_ctr initsig
SPEC+=(init 1)
args sleep 30
run_bg
kill -TERM "$CPID"
wait_file "$D/exit"
eq "init forwards SIGTERM (sleep dies: 143)" "$(cut -d' ' -f1 "$D/exit" 2>/dev/null)" 143

echo "== 9. tty"
new_ctr tty
SPEC+=(tty 1 stdin 1 attach 1)
args sh -c 'tty; test -t 0 && test -t 1 && test -t 2 && echo all-tty; exit 3'
write_spec "$D/spec"
OUT=$(script -qec "$SHIM run $D/spec" /dev/null </dev/null)
eq "tty exit code" "$?" 3
match "tty is /dev/pts/0" "$OUT" '/dev/pts/0'
match "stdio all on the tty" "$OUT" all-tty
match "tty output logged" "$(cat "$D/log")" ' o (F|P) /dev/pts/0'

new_ctr ttyinit
SPEC+=(tty 1 stdin 1 attach 1 init 1)
args sh -c 'tty; echo pid=$$; exit 6'
write_spec "$D/spec"
OUT=$(script -qec "$SHIM run $D/spec" /dev/null </dev/null)
eq "tty + init: exit code" "$?" 6
match "tty + init: command is pid 2 on the pty" "$OUT" '/dev/pts/0.*pid=2'

echo "== 11. more spec keys"
new_ctr user
SPEC+=(uid 33 gid 33 groups 65534,0 rlimit "RLIMIT_NOFILE 1024 2048" cwd /work/dir)
args sh -c 'id; ulimit -n; ulimit -Hn; pwd; grep -E "^(CapEff|CapBnd|NoNewPrivs)" /proc/self/status'
run_fg
match "uid/gid/groups" "$OUT" 'uid=33\(www-data\) gid=33\(www-data\) groups=(0\(root\),65534\(nogroup\)|65534\(nogroup\),0\(root\))'
match "rlimit NOFILE" "$OUT" $'\n1024\n2048\n'
match "missing cwd is created" "$OUT" $'\n/work/dir\n'
match "non-root: no effective caps" "$OUT" $'CapEff:\t0000000000000000'
match "bounding set = docker defaults" "$OUT" $'CapBnd:\t00000000a80425fb'
match "no_new_privs" "$OUT" $'NoNewPrivs:\t1'
new_ctr caps
args sh -c 'grep -E "^Cap(Eff|Prm|Inh)" /proc/self/status | cut -f2 | tr "\n" " "'
run_fg
eq "root: docker default caps" "$OUT" "00000000a80425fb 00000000a80425fb 00000000a80425fb "

new_ctr mounts
mkdir -p "$T/hostdir" && echo hostdata >"$T/hostdir/f" && echo hostfile >"$T/hostfile"
SPEC+=(readonly 1
	mount $'bind\t'"$T/hostdir"$'\t/mnt/ro\tro,nosuid,nodev'
	mount $'bind\t'"$T/hostdir"$'\t/mnt/rw\trbind'
	mount $'bind\t'"$T/hostfile"$'\t/etc/newfile\tro'
	mount $'tmpfs\ttmpfs\t/tmp\tsize=1m,mode=1777,nosuid,nodev'
	mount $'tmpfs\ttmpfs\t/escape-link/mnt\tsize=1m')
args sh -c 'cat /mnt/ro/f; touch /mnt/ro/x 2>/dev/null && echo ro-writable || echo ro-ok
	touch /mnt/rw/y && echo rw-ok; cat /etc/newfile; touch /rootfile 2>/dev/null && echo root-writable || echo root-ro
	touch /tmp/t && echo tmp-ok; touch /dev/shm/s && echo shm-ok; grep " /tmp " /proc/mounts | grep -o size=[0-9]*k'
run_fg
eq "mounts + readonly root" "$OUT" $'hostdata\nro-ok\nrw-ok\nhostfile\nroot-ro\ntmp-ok\nshm-ok\nsize=1024k'
ok "rw bind wrote to the host dir" test -f "$T/hostdir/y"
ok "symlinked mount dest stayed inside the rootfs" test ! -e "$T/hostside"

new_ctr stdin
SPEC+=(stdin 1)
args sh -c 'cat; echo end'
STDIN=$T/hostfile run_fg
eq "stdin copied, EOF delivered" "$OUT" $'hostfile\nend'

new_ctr sigfwd
args sh -c 'trap "echo got-term; exit 9" TERM; echo ready; while :; do sleep 0.05; done'
write_spec "$D/spec"
printf '%s\0' attach 1 >>"$D/spec"
"$SHIM" run "$D/spec" >"$D/out" 2>&1 &
SP=$!
for _ in $(seq 100); do grep -q ready "$D/out" && break; sleep 0.05; done
kill -TERM $SP
wait $SP
eq "attached: SIGTERM forwarded" "$?:$(tail -1 "$D/out")" "9:got-term"

new_ctr hook
SPEC+=(prestart /bin/sh prestart -c prestart "echo \$TSCTR_PID > $D/hookpid")
args true
run_fg
eq "prestart hook saw the container pid" "$(cat "$D/hookpid" 2>/dev/null)" "${SYNC#ok }"

new_ctr restart
SPEC+=(restart on-failure:2 restart-count-file "$D/restarts")
args sh -c 'echo run; exit 1'
t0=$EPOCHREALTIME
run_fg
t1=$EPOCHREALTIME
eq "on-failure:2 runs 3 times" "$(grep -c 'o F run' "$D/log")" 3
eq "restart count file" "$(cat "$D/restarts")" 2
eq "exit code after restarts" "$RC" 1
ok "back-off 100ms+200ms" awk "BEGIN { d = $t1 - $t0; exit !(d > 0.3 && d < 3) }"

new_ctr always
SPEC+=(restart always restart-count-file "$D/restarts")
args sleep 30
run_bg
kill -TERM "$MPID"
kill -KILL "$CPID"
ok "SIGTERM to the monitor stops restarts" wait_gone "$MPID"
eq "not restarted" "$(cat "$D/restarts" 2>/dev/null || echo 0)" 0

if [[ -r /dev/fuse && -w /dev/fuse ]] && command -v fuse-overlayfs >/dev/null; then
	new_ctr fuse
	SPEC+=(storage fuse-overlayfs)
	args sh -c 'touch /fusefile; grep " / " /proc/mounts | cut -d" " -f3; echo $$; ps -o comm | grep -c fuse; exit 0'
	run_fg
	eq "fuse-overlayfs root, invisible in the container" "$RC:$OUT" $'0:fuse.fuse-overlayfs\n1\n0'
	ok "fuse-overlayfs wrote to upper" test -f "$D/upper/fusefile"
	ok "fuse-overlayfs stopped" bash -c "! pgrep -u $ME -f '[f]use-overlayfs.*$D'"
else
	echo "SKIP: fuse-overlayfs (no access to /dev/fuse for $ME)"
fi

cp -a "$L" "$T/plainroot"
new_ctr plainroot
NS=()
for ((i = 0; i < ${#SPEC[@]}; i += 2)); do
	case ${SPEC[$i]} in lower | upper | work) ;; rootfs) NS+=(rootfs "$T/plainroot") ;; *) NS+=("${SPEC[$i]}" "${SPEC[$i + 1]}") ;; esac
done
SPEC=("${NS[@]}" readonly 1)
args sh -c 'cat /data/lowerfile; touch /x 2>/dev/null || echo ro'
run_fg
eq "no lower: rootfs used as is (bind)" "$RC:$OUT" $'0:original\nro'

# many_layers NAME PARENT UPPERPARENT: 60 layers + the busybox image under PARENT
many_layers() {
	new_ctr "$1"
	NS=()
	for ((i = 0; i < ${#SPEC[@]}; i += 2)); do
		case ${SPEC[$i]} in lower | upper | work) ;; *) NS+=("${SPEC[$i]}" "${SPEC[$i + 1]}") ;; esac
	done
	SPEC=("${NS[@]}" upper "$3/upper" work "$3/work")
	mkdir -p "$3/upper" "$3/work"
	for i in $(seq -w 1 60); do
		mkdir -p "$2/layer$i"
		echo "$i" >"$2/layer$i/f$i"
		SPEC+=(lower "$2/layer$i")
	done
	[[ -d $2/image ]] || cp -a "$L" "$2/image"
	SPEC+=(lower "$2/image")
	args sh -c 'cat /f01 /f60 | tr "\n" " "; cat /data/lowerfile'
	run_fg
}
LONG=$T/$(printf 'd%.0s' $(seq 200))
many_layers manylayers "$LONG" "$LONG"
eq "60 long lowerdirs (> 1 page; relative to their parent)" "$RC:$OUT" "0:01 60 original"
many_layers hugelayers "$LONG/$(printf 'e%.0s' $(seq 200))" "$T/c/hugelayers"
if [[ $RC == 0 ]]; then
	eq "60 lowerdirs too long even relative (fsconfig lowerdir+)" "$RC:$OUT" "0:01 60 original"
else
	match "60 lowerdirs too long even relative: clear error on old kernels" "$SYNC" "lowerdir\+ needs Linux 6.8"
fi

new_ctr mountfail
SPEC+=(mount $'bind\t/nonexistent-src\t/mnt\t')
args true
run_fg
eq "failed mount: 125 with syscall and path" "$RC:$SYNC" "125:error 125 bind mount source /nonexistent-src: no such file or directory"
ok "failed mount leaves no mounts" no_mounts

echo "== 12. seccomp: default filter, capability-dependent rules, unconfined, exec"
PROBES=(keyctl add_key bpf perf_event_open userfaultfd kcmp unshare-user clone-newuser fork mount-tmpfs
	swapoff reboot kexec_load init_module open_by_handle_at personality-odd personality-query chroot x32-getpid)
new_ctr seccomp
args sh -c 'grep ^Seccomp: /proc/self/status; syscall-probe "$@"' sh "${PROBES[@]}"
run_fg
eq "default filter: exit 0" "$RC" 0
match "Seccomp: 2 (filter mode)" "$OUT" $'Seccomp:\t2'
for p in keyctl add_key bpf perf_event_open userfaultfd kcmp unshare-user clone-newuser mount-tmpfs swapoff \
	reboot kexec_load init_module open_by_handle_at personality-odd x32-getpid; do
	match "default filter denies $p with EPERM" "$OUT" $'\n'"$p=EPERM"'($|'$'\n'')'
done
for p in fork personality-query chroot; do
	match "default filter allows $p" "$OUT" $'\n'"$p=OK"'($|'$'\n'')'
done
new_ctr seccomp-admin
SPEC+=(cap CAP_SYS_ADMIN)
args syscall-probe mount-tmpfs unshare-user keyctl
run_fg
eq "CAP_SYS_ADMIN lets mount and unshare through, not keyctl" "$OUT" $'mount-tmpfs=OK\nunshare-user=OK\nkeyctl=EPERM'
new_ctr seccomp-off
SPEC+=(seccomp unconfined)
args sh -c 'grep ^Seccomp: /proc/self/status; syscall-probe keyctl add_key bpf clone-newuser unshare-user personality-odd kcmp'
run_fg
eq "unconfined: no filter, the kernel decides" "$OUT" $'Seccomp:\t0\nkeyctl=OK\nadd_key=OK\nbpf=EINVAL\nclone-newuser=OK\nunshare-user=OK\npersonality-odd=OK\nkcmp=OK'
new_ctr seccomp-bad
SPEC+=(seccomp bogus)
args true
run_fg
eq "unknown seccomp mode: 125" "$RC:$SYNC" '125:error 125 unknown seccomp mode "bogus" (want default or unconfined)'
new_ctr seccomp-exec
args sleep 30
run_bg
TARGET=$CPID
exec_spec "$D/e1" -- syscall-probe keyctl fork
"$SHIM" exec "$D/e1" >"$D/eout" 2>&1
eq "exec gets the default filter too (without no-new-privs: installed before the caps go)" "$(cat "$D/eout")" $'keyctl=EPERM\nfork=OK'
exec_spec "$D/e2" no-new-privs 1 seccomp unconfined -- syscall-probe keyctl
"$SHIM" exec "$D/e2" >"$D/eout" 2>&1
eq "exec with seccomp unconfined" "$(cat "$D/eout")" keyctl=OK
kill -KILL "$CPID"
wait_gone "$MPID"

echo "== 13. start latency (20 x true, time to 'ok' on fd 3)"
new_ctr latency
args true
write_spec "$D/spec"
printf '%s\0' attach 1 >>"$D/spec"
LAT=()
for i in $(seq 20); do
	t0=$EPOCHREALTIME
	t1=$("$SHIM" run "$D/spec" 3>&1 >/dev/null 2>&1 | { read -r _; echo "$EPOCHREALTIME"; cat >/dev/null; })
	LAT+=("$(awk "BEGIN { printf \"%.1f\", ($t1 - $t0) * 1000 }")")
done
MED=$(printf '%s\n' "${LAT[@]}" | sort -n | awk '{ a[NR] = $1 } END { print (a[10] + a[11]) / 2 }')
echo "   start latency ms: median $MED (all: ${LAT[*]})"
ok "no mounts left after all tests" no_mounts

echo
echo "$PASSED passed, $FAILED failed"
[[ $FAILED == 0 ]]

#!/usr/bin/env bash
# Prepares a Debian 12 host for tsctr's tests and benchmarks (run as root; idempotent): packages,
# the unprivileged test user with subordinate id ranges, device permissions, and the rootless
# podman configuration we benchmark against.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=fixtures/env.sh
source "$here/fixtures/env.sh"

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-host.sh: must run as root" >&2
  exit 1
fi
say() { printf 'setup-host: %s\n' "$*"; }

# runc before podman: apt satisfies podman's "crun | runc" with what is already marked, and crun
# does not work with this VM's hybrid cgroup layout. attr (getfattr) is for build-images.sh; gcc
# and libc6-dev build the shim and the tests' static syscall probe; podman-compose is the peer of
# scripts/bench/compose; docker-compose (1.29, python: no daemon) is a client of the API tests.
pkgs=(runc uidmap fuse-overlayfs slirp4netns passt docker-registry skopeo umoci busybox-static
  debootstrap podman hyperfine wrk curl jq apache2-utils openssl iproute2 procps psmisc attr
  gcc libc6-dev podman-compose docker-compose)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null
else
  say "packages already installed"
fi

# Installs packages whose services must not start here: a policy-rc.d refuses every service start
# during the install (one the host already had is put back after).
install_without_services() {
  export DEBIAN_FRONTEND=noninteractive
  local had_policy=0
  [ -e /usr/sbin/policy-rc.d ] && had_policy=1 && cp -a /usr/sbin/policy-rc.d /usr/sbin/policy-rc.d.tsctr-saved
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
  chmod 0755 /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 "$@" >/dev/null
  if [ "$had_policy" = 1 ]; then mv /usr/sbin/policy-rc.d.tsctr-saved /usr/sbin/policy-rc.d; else rm -f /usr/sbin/policy-rc.d; fi
}

# The docker CLI is the API tests' client (tsctr system service). Any docker client will do (one
# in /usr/local/bin included); without one, Debian's docker.io, whose daemon must never start
# here: its service starts are refused during the install, and its units are masked.
if ! command -v docker >/dev/null; then
  say "installing docker.io for its client (the daemon stays off)"
  if [ -d /run/systemd/system ]; then systemctl mask docker.service docker.socket containerd.service >/dev/null 2>&1 || true; fi
  apt-get update -qq
  install_without_services docker.io
fi

# The remote API tests (api-remote, remote-cli) run their own sshd as the test user on a port of
# 127.0.0.1: only the binary is needed, the system's ssh service is not started by the install.
if [ ! -x /usr/sbin/sshd ]; then
  say "installing openssh-server for its sshd binary (the ssh service stays off)"
  install_without_services openssh-server
fi

# Debian's docker-registry package starts its own service on :5000 (where systemd or sysv-rc
# runs it), which would take the mirror's port; fixtures/registry.sh runs our instances instead.
if [ -d /run/systemd/system ]; then
  if systemctl is-enabled --quiet docker-registry.service 2>/dev/null || systemctl is-active --quiet docker-registry.service; then
    systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
    say "disabled the docker-registry system service (it binds :5000)"
  fi
elif [ -x /etc/init.d/docker-registry ] && /etc/init.d/docker-registry status >/dev/null 2>&1; then
  /etc/init.d/docker-registry stop >/dev/null || true
  update-rc.d docker-registry disable >/dev/null 2>&1 || true
  say "stopped the docker-registry system service (it binds :5000)"
fi

user=$TSCTR_TEST_USER
if ! getent passwd "$user" >/dev/null; then
  useradd --create-home --home-dir "/home/$user" --shell /bin/bash --user-group "$user"
  say "created user $user"
fi
uid=$(id -u "$user")
gid=$(id -g "$user")
home=$(getent passwd "$user" | cut -d: -f6)

# One range per user; useradd may already have allocated one. Otherwise take 100000:65536 or the
# first gap of 65536 above it that overlaps nobody else's range.
ensure_subids() {
  local file=$1 count=65536 start
  touch "$file"
  if awk -F: -v u="$user" -v n="$uid" '$1==u || $1==n {found=1} END {exit !found}' "$file"; then
    say "$file: $(grep -E "^($user|$uid):" "$file" | head -1) (kept)"
    return
  fi
  start=$(awk -F: -v want="$count" '
    NF>=3 && $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ { s[NR]=$2+0; c[NR]=$3+0; n=NR }
    END {
      cand=100000
      do {
        moved=0
        for (i in s) if (cand < s[i]+c[i] && s[i] < cand+want) { cand=s[i]+c[i]; moved=1 }
      } while (moved)
      print cand
    }' "$file")
  echo "$user:$start:$count" >>"$file"
  say "$file: $user:$start:$count (added)"
}
ensure_subids /etc/subuid
ensure_subids /etc/subgid

# 0600 on these VMs; distros ship 0666, and rootless fuse-overlayfs/slirp4netns/pasta need them.
for dev in /dev/fuse /dev/net/tun; do
  if [ -e "$dev" ]; then
    chmod 0666 "$dev"
  else
    say "warning: $dev does not exist"
  fi
done
say "chmod 0666 /dev/fuse /dev/net/tun"

# No systemd-logind here to create it at login.
runtime=/run/user/$uid
install -d -m 0755 /run/user
install -d -m 0700 -o "$uid" -g "$gid" "$runtime"
say "runtime dir $runtime"

conf=$home/.config/containers
install -d -m 0755 -o "$uid" -g "$gid" "$home/.config" "$conf"
write_conf() { # name, content on stdin; owned by the user so podman accepts it
  install -m 0644 -o "$uid" -g "$gid" /dev/stdin "$conf/$1"
}
write_conf registries.conf <<EOF
# Written by tsctr's scripts/setup-host.sh: docker.io through the local fixture mirror.
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"

[[registry]]
prefix = "docker.io"
location = "docker.io"

[[registry.mirror]]
location = "$REGISTRY"
insecure = true

[[registry]]
location = "$REGISTRY"
insecure = true

[[registry]]
location = "$AUTH_REGISTRY"
insecure = true

[[registry]]
location = "$TOKEN_REGISTRY"
insecure = true
EOF
# Native rootless overlay (kernel >= 5.13): podman's fastest setup, which is what we compare with.
write_conf storage.conf <<'EOF'
# Written by tsctr's scripts/setup-host.sh.
[storage]
driver = "overlay"
EOF
# crun fails on this VM's hybrid cgroups; there is no systemd or journald for the defaults.
write_conf containers.conf <<'EOF'
# Written by tsctr's scripts/setup-host.sh.
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
say "wrote $conf/{registries,storage,containers}.conf"
say "done: user $user (uid $uid), home $home"

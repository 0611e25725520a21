#!/usr/bin/env bash
# The main job on a fresh Debian/Ubuntu machine: install what tsctr needs, build it, fill a local
# registry (the docker.io mirror, since there may be no internet), then, as an ordinary user,
# `tsctr run -d -p 8080:80 nginx` and fetch its page with curl. Run as root (or with sudo);
# the container itself runs rootless as the user tsctr-test.
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
source scripts/fixtures/env.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build
install -m 0755 dist/tsctr /usr/local/bin/tsctr

port=${PORT:-8080}
as_user() {
  runuser -u "$TSCTR_TEST_USER" -- env -i HOME="/home/$TSCTR_TEST_USER" USER="$TSCTR_TEST_USER" \
    PATH=/usr/local/bin:/usr/bin:/bin XDG_RUNTIME_DIR="/run/user/$(id -u "$TSCTR_TEST_USER")" "$@"
}
as_user tsctr rm -f demo-nginx >/dev/null 2>&1 || true
echo "+ tsctr run -d --name demo-nginx -p $port:80 nginx   (as $TSCTR_TEST_USER)"
as_user tsctr run -d --name demo-nginx -p "$port:80" nginx
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done
echo "+ curl http://127.0.0.1:$port/"
curl -fsS "http://127.0.0.1:$port/" | head -n 5
echo "+ tsctr ps"
as_user tsctr ps
echo
echo "nginx is serving on http://127.0.0.1:$port/ — stop it with: runuser -u $TSCTR_TEST_USER -- tsctr rm -f demo-nginx"

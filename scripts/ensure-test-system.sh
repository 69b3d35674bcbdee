#!/usr/bin/env bash
# What the test suite needs from the machine: Chromium for browser tests, PostgreSQL (and Redis) up.
# Installs or starts what is missing; fails loudly, with the reason, when something cannot be had.
# With arguments, only the parts named: chromium, postgres, redis (`make bench` needs only postgres).
set -euo pipefail

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(chromium postgres redis)
for part in "${parts[@]}"; do
  case "$part" in
    chromium | postgres | redis) ;;
    *) echo "ERROR: unknown part '$part' (chromium, postgres, redis)." >&2; exit 2 ;;
  esac
done
wants() { [[ " ${parts[*]} " == *" $1 "* ]]; }
ready=()

need_apt_update=1
apt_install() {
  if [ "$(id -u)" != "0" ]; then
    echo "ERROR: $* is missing and installing it needs root (apt-get install -y $*)." >&2
    exit 1
  fi
  if [ "$need_apt_update" = 1 ]; then apt-get update -qq; need_apt_update=0; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if wants chromium; then
  if [ ! -x /usr/bin/chromium ]; then
    echo "Installing Chromium for the browser tests…"
    apt_install chromium
  fi
  ready+=("Chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}')")
fi

if wants postgres; then
  if ! command -v pg_isready >/dev/null 2>&1; then
    echo "Installing PostgreSQL…"
    apt_install postgresql
  fi
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    echo "Starting PostgreSQL…"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    echo "ERROR: PostgreSQL is not reachable at 127.0.0.1:5432; the suite must also run there (and make bench uses it), so this stops." >&2
    exit 1
  fi
  ready+=("PostgreSQL up")
fi

if wants redis; then
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "Installing Redis…"
    apt_install redis-server
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "Starting Redis…"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 1 10); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
  fi
  ready+=("Redis up")
fi

joined=$(printf '%s, ' "${ready[@]}")
echo "Machine ready: ${joined%, }."

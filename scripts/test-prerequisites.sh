#!/usr/bin/env bash
# What `npm test` needs on this machine: Redis, PostgreSQL and Debian's chromium. Each is used
# when it answers, started when it is installed, installed with apt when we are root, and
# otherwise named in one line with the way to get it.
set -euo pipefail

redis_host=127.0.0.1 redis_port=6379
postgres_url=${TEST_POSTGRES_URL:-}

missing() {
  echo "npm test needs $1: $2" >&2
  exit 1
}

apt_install() {
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
  [ -n "${APT_UPDATED:-}" ] || { apt-get update -qq >/dev/null && APT_UPDATED=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

wait_for() {
  for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

# Redis: REDIS_URL when the tests are given one, else 127.0.0.1:6379.
if [ -z "${REDIS_URL:-}" ] && ! redis-cli -h $redis_host -p $redis_port ping >/dev/null 2>&1; then
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server redis-tools ||
    missing "Redis on $redis_host:$redis_port" "start one, set REDIS_URL, or run as root so apt can install redis-server"
  redis-server --daemonize yes --bind $redis_host --port $redis_port --save "" --appendonly no >/dev/null
  wait_for redis-cli -h $redis_host -p $redis_port ping ||
    missing "Redis on $redis_host:$redis_port" "redis-server was started but does not answer"
fi

# PostgreSQL: TEST_POSTGRES_URL when given, else 127.0.0.1:5432 as postgres without a password.
if [ -z "$postgres_url" ] && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    apt_install postgresql ||
      missing "PostgreSQL on 127.0.0.1:5432" "start one, set TEST_POSTGRES_URL, or run as root so apt can install postgresql"
  fi
  [ "$(id -u)" = 0 ] ||
    missing "PostgreSQL on 127.0.0.1:5432" "it is installed but not running: start it, or run npm test as root"
  version=$(ls /etc/postgresql | sort -V | tail -1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  # The tests connect as postgres without a password, from this machine only.
  grep -q '^host all all 127.0.0.1/32 trust' "$hba" || sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 ||
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload >/dev/null 2>&1 || true
  wait_for pg_isready -q -h 127.0.0.1 -p 5432 ||
    missing "PostgreSQL on 127.0.0.1:5432" "the cluster $version/main was started but does not answer"
fi

# The /cache page and the dashboard pages are tested in Debian's chromium, driven by playwright-core.
chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  apt_install chromium && [ -x "$chromium" ] ||
    missing "Debian's chromium at $chromium" "apt-get install chromium as root, or set CHROMIUM_PATH"
fi

#!/usr/bin/env bash
# Make sure the local Postgres (127.0.0.1:5432) and Redis (127.0.0.1:6379)
# the test suite uses are up: start the ones that are down. In CI a service
# that still does not answer is an error; elsewhere its tests are skipped.
set -u

answers() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

wait_for() {
  for _ in $(seq 1 30); do answers "$1" && return 0; sleep 1; done
  return 1
}

start_postgres() {
  local version
  version=$(ls /etc/postgresql 2>/dev/null | head -n 1)
  [ -n "$version" ] && pg_ctlcluster --skip-systemctl-redirect "$version" main start
}

start_redis() {
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
}

status=0
for service in postgres:5432 redis:6379; do
  name=${service%%:*} port=${service##*:}
  if answers "$port"; then
    echo "services: $name is up on 127.0.0.1:$port"
    continue
  fi
  echo "services: $name is down on 127.0.0.1:$port; starting it"
  "start_$name" >/dev/null 2>&1
  if wait_for "$port"; then
    echo "services: $name started"
  elif [ -n "${CI:-}" ]; then
    echo "services: ERROR: $name did not start on 127.0.0.1:$port; its tests cannot run" >&2
    status=1
  else
    echo "services: WARNING: $name is not running; its tests will be skipped" >&2
  fi
done
exit $status

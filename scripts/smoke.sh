#!/usr/bin/env bash
# Starts the built service as a new user does (no configuration: the embedded database in a
# throw-away DATA_DIR), then checks what the README promises: /health/ready, /docs, /admin, and a
# sign-in with the generated admin password it prints once. Then restarts it on the same data
# to check the data (the admin) is kept. Needs `npm run build` first.
set -euo pipefail
command -v curl >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl; }
cd "$(dirname "$0")/.."

data=$(mktemp -d)
log="$data/service.log"
port=${SMOKE_PORT:-3917}
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT

start() {
  env -u DATABASE_URL -u JWT_SECRET -u ADMIN_EMAIL -u ADMIN_PASSWORD \
    DATA_DIR="$data" PORT="$port" HOST=127.0.0.1 \
    node dist/src/main.js >>"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 60); do
    curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { echo "the service exited:"; cat "$log"; exit 1; }
    sleep 0.5
  done
  echo "the service did not become ready:"; cat "$log"; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
check() { # name, expected status, curl arguments...
  local name=$1 expected=$2; shift 2
  local status; status=$(curl -s -o /dev/null -w '%{http_code}' "$@")
  [ "$status" = "$expected" ] || { echo "FAIL $name: $status, expected $expected"; cat "$log"; exit 1; }
  echo "ok   $name ($status)"
}

start
password=$(grep -o 'password: [^ ]*' "$log" | head -n1 | awk '{print $2}')
[ -n "$password" ] || { echo "FAIL no generated admin password in the log"; cat "$log"; exit 1; }
echo "ok   the first admin's password was printed"
check "GET /docs" 200 "http://127.0.0.1:$port/docs"
check "GET /admin/" 200 "http://127.0.0.1:$port/admin/"
login=(-X POST "http://127.0.0.1:$port/api/v1/auth/login" -H 'content-type: application/json'
  -d "{\"email\":\"admin@example.com\",\"password\":\"$password\"}")
check "the printed admin signs in" 200 "${login[@]}"
check "a wrong password is refused" 401 -X POST "http://127.0.0.1:$port/api/v1/auth/login" \
  -H 'content-type: application/json' -d '{"email":"admin@example.com","password":"wrong-password"}'
stop

start
[ "$(grep -c 'FIRST ADMIN CREATED' "$log")" = 1 ] || { echo "FAIL a second admin was created"; exit 1; }
check "after a restart the same admin signs in (the data was kept)" 200 "${login[@]}"
stop
echo "smoke test passed"

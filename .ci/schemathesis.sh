#!/usr/bin/env bash
# The OpenAPI document is a contract: schemathesis generates requests from it
# (valid and deliberately invalid ones) against the release build, on SQLite
# and on PostgreSQL, as an admin key, as a customer, and as a key holding
# every scope, and fails on any 5xx, any response the document does not
# describe, and any request the document forbids that the server accepts.
#
# Usage: .ci/schemathesis.sh [sqlite|postgres]...   (default: both)
# Environment: SCHEMATHESIS_MAX_EXAMPLES, SCHEMATHESIS_REPORT_DIR (keep the
# JUnit reports), ORDERPAY_BIN (skip the release build), CARGO_TARGET_DIR,
# ORDERPAY_TEST_POSTGRES_URL (the PostgreSQL server, no database name).
# Needs: python3 with venv, cargo, curl, psql.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
# Validates the document itself against the OpenAPI 3.0 specification.
SPEC_VALIDATOR_VERSION=0.7.1
# Generated requests per operation and phase: both backends, three
# credentials each, took 2.5 minutes on 2 cores with 40 (the coverage phase's
# boundary values come on top, whatever this says).
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-40}"
PG_SERVER_URL="${ORDERPAY_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/orderpay/target}"

# Exclusions, each with its reason. Keep this list short and justified; the
# others live beside the setting they need: .ci/schemathesis.toml (the QUERY
# method) and .ci/schemathesis_hooks.py (422s that name facts no schema can
# state, such as a made-up cursor or an unknown sku).
#
# 1. POST /api/v1/users/logout in the customer run: it revokes the very token
#    the run authenticates with, so every later request of that run would be a
#    401 that tests nothing. Logout is still exercised without a token (401) in
#    the key runs, and tests/api/users.rs covers it.
CUSTOMER_EXCLUDES=(--exclude-path /api/v1/users/logout)

venv="$HOME/.cache/orderpay/schemathesis-$SCHEMATHESIS_VERSION-validator-$SPEC_VALIDATOR_VERSION"
if [ ! -x "$venv/bin/schemathesis" ] || [ ! -x "$venv/bin/openapi-spec-validator" ]; then
  echo "== installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION" "openapi-spec-validator==$SPEC_VALIDATOR_VERSION"
fi
st="$venv/bin/schemathesis"

# ORDERPAY_BIN: an already built binary (e.g. a debug build while working on
# the document); CI leaves it unset and tests the release build.
bin="${ORDERPAY_BIN:-}"
if [ -z "$bin" ]; then
  echo "== cargo build --release --locked"
  cargo build --release --locked
  bin="$CARGO_TARGET_DIR/release/orderpay"
fi

ci_dir="$PWD/.ci"
work="$(mktemp -d)"
server_pid=""
pg_db=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$pg_db" ]; then psql "$PG_SERVER_URL/postgres" -qc "DROP DATABASE IF EXISTS $pg_db" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

json_field() { # json_field FIELD.PATH < json
  python3 -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value[key]
print(value)' "$1"
}

# run_backend NAME DATABASE_URL
run_backend() {
  local name="$1" url="$2" port base
  port="$(free_port)"
  base="http://127.0.0.1:$port"
  # Release profile, plus what a test deployment needs: the offline Stripe
  # simulator (release refuses it otherwise) and demo seeding over HTTP.
  cat >"$work/Rocket.toml" <<EOF
[release]
address = "127.0.0.1"
port = $port
demo_seed = true
log_level = "critical"
[release.stripe]
simulator = true
EOF
  export ROCKET_CONFIG="$work/Rocket.toml" ROCKET_PROFILE=release DATABASE_URL="$url"
  admin_key="$("$bin" api-key create --name schemathesis-admin --scopes admin | tail -n 1)" || return 1
  all_key="$("$bin" api-key create --name schemathesis-all \
    --scopes admin,checkout,payments:callback,payments:read,refunds:write | tail -n 1)" || return 1
  RUST_LOG=warn "$bin" >"$work/server-$name.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do curl -fs "$base/health" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fs "$base/health" >/dev/null || { cat "$work/server-$name.log"; echo "server did not start"; return 1; }
  echo "== openapi-spec-validator on the served document"
  curl -fs "$base/api/v1/openapi.json" >"$work/openapi.json" || return 1
  "$venv/bin/openapi-spec-validator" "$work/openapi.json" || return 1
  # Demo data, so that listings have pages and the admin has something to see.
  curl -fs -X POST -H "X-API-Key: $admin_key" "$base/api/v1/admin/seed" >/dev/null || return 1
  local customer_token
  customer_token="$(curl -fs -X POST -H 'Content-Type: application/json' \
    -d '{"email": "schemathesis@example.com", "name": "Schemathesis", "password": "correct horse battery"}' \
    "$base/api/v1/users/register" | json_field data.access_token)" || return 1

  local status=0 run
  for run in customer admin all-scopes; do
    local auth=() extra=()
    case "$run" in
      customer) auth=(-H "Authorization: Bearer $customer_token"); extra=("${CUSTOMER_EXCLUDES[@]}") ;;
      admin) auth=(-H "X-API-Key: $admin_key") ;;
      all-scopes) auth=(-H "X-API-Key: $all_key") ;;
    esac
    echo "== schemathesis on $name as $run"
    # From the scratch directory: schemathesis keeps a cache of past failures
    # in the current directory, and each run starts from nothing. One worker:
    # on Python 3.11, hypothesis describing lambdas from several threads at
    # once fails ("AST constructor recursion depth mismatch").
    (cd "$work" && SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$ci_dir" \
      "$st" --config-file "$ci_dir/schemathesis.toml" run "$base/api/v1/openapi.json" \
      --checks all \
      --max-examples "$MAX_EXAMPLES" \
      --seed 1 \
      --workers 1 \
      --request-timeout 10 \
      --report junit --report-dir "${SCHEMATHESIS_REPORT_DIR:-$work/report}/$name-$run" \
      "${auth[@]}" "${extra[@]}") || status=1
  done
  if grep -q "panicked" "$work/server-$name.log"; then
    echo "the server panicked during the $name run:"; grep -n -A3 "panicked" "$work/server-$name.log"; status=1
  fi
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  return "$status"
}

backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(sqlite postgres)
failed=0
for backend in "${backends[@]}"; do
  case "$backend" in
    sqlite)
      run_backend sqlite "sqlite://$work/schemathesis.db?mode=rwc" || failed=1 ;;
    postgres)
      pg_db="orderpay_schemathesis_$$"
      psql "$PG_SERVER_URL/postgres" -qc "DROP DATABASE IF EXISTS $pg_db" -c "CREATE DATABASE $pg_db" >/dev/null
      run_backend postgres "$PG_SERVER_URL/$pg_db" || failed=1
      psql "$PG_SERVER_URL/postgres" -qc "DROP DATABASE IF EXISTS $pg_db" >/dev/null; pg_db="" ;;
    *) echo "unknown backend $backend"; exit 2 ;;
  esac
done
exit "$failed"

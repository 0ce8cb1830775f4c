#!/usr/bin/env bash
# History import throughput: `recommend import history` of the raw UCI transactions file (541,909 lines) into an
# empty host, first on the embedded default (SQLite), then on PostgreSQL. On both, the co-purchase pairs of bulk batches
# are counted in the background once the import's writes pause; the time each store takes to catch up is printed too.
# Usage: scripts/bench-import.sh [file=../shared/datasets/uci-online-retail/online_retail_transactions.csv.gz]
set -euo pipefail
cd "$(dirname "$0")/.."
file=$(realpath "${1:-../shared/datasets/uci-online-retail/online_retail_transactions.csv.gz}")
cleanup() {
  stop_hosts
  rm -rf "$work"
}
trap cleanup EXIT
source scripts/bench-host.sh

serve_empty() { # name port extra-args...
  local name=$1 port=$2; shift 2
  dotnet "$api" --Recommend:Listen="http://127.0.0.1:$port" --Recommend:HttpListen="http://127.0.0.1:$((port + 1000))" \
    --Recommend:DataDirectory="$work/$name" --Recommend:SeedSample=false --Recommend:Training:InHost=false \
    --Logging:LogLevel:Default=Warning "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do
    cli health --server "http://127.0.0.1:$port" 2>/dev/null | grep -q '^Serving' && return
    sleep 1
  done
  echo "host $name did not become ready" >&2; cat "$work/$name.log" >&2; exit 1
}

import() { # name port
  cp "$file" "$work/$1-history.csv.gz"
  printf "%s: " "$1"
  cli import history "$work/$1-history.csv.gz" --server "http://127.0.0.1:$2" --progress json | tail -1
}

serve_empty sqlite 5191
import sqlite 5191
start=$(date +%s.%N)
queued() { python3 -c "import sqlite3,sys; print(sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True).execute('select count(*) from co_purchase_queue').fetchone()[0])" "$work/sqlite/recommend.db"; }
until [ "$(queued)" = 0 ]; do sleep 1; done
echo "sqlite: co-purchase counter caught up $(echo "$(date +%s.%N) - $start" | bc) s after the import returned"
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true   # its shutdown must not share the cores with the next import

start_postgres 55433
serve_empty postgres 5192 --Recommend:Store:Provider=postgres \
  "--ConnectionStrings:Postgres=Host=127.0.0.1;Port=55433;Username=postgres;Database=postgres"
import postgres 5192
start=$(date +%s.%N)
until [ "$("$pgbin/psql" -h 127.0.0.1 -p 55433 -U postgres -Atc 'select count(*) from co_purchase_queue')" = 0 ]; do sleep 1; done
echo "postgres: co-purchase updater caught up $(echo "$(date +%s.%N) - $start" | bc) s after the import returned"

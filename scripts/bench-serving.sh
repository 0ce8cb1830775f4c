#!/usr/bin/env bash
# Serving latency at a fixed request rate on the bundled catalog: SimilarProducts and Recommend, p50/p90/p99,
# first on the embedded default (SQLite + embedded index), then with the PostgreSQL history store. The last column is
# the host's CPU time over the run (warm-up included) divided by the requests sent; PostgreSQL's own is not in it.
# Usage: scripts/bench-serving.sh [rate=200] [seconds=30]
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-200}
seconds=${2:-30}
cleanup() {
  stop_hosts
  rm -rf "$work"
}
trap cleanup EXIT
source scripts/bench-host.sh

bench() { # name port host-pid
  for call in similar recommend; do
    local before row
    before=$(host_cpu_ms "$3")
    row=$(cli bench --server "http://127.0.0.1:$2" --call "$call" --rate "$rate" --seconds "$seconds" --warmup 5 | tail -1)
    echo "| $1 $row $(awk -v a="$before" -v b="$(host_cpu_ms "$3")" -v n="$((rate * (seconds + 5)))" 'BEGIN {printf "%.2f", (b - a) / n}') |"
  done
}

echo "| backend | call | rate/s | requests | errors | p50 ms | p90 ms | p95 ms | p99 ms | max ms | sender late max ms | client CPU ms per request | host CPU ms per request |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
serve embedded 5181
bench sqlite+embedded 5181 "${pids[0]}"
kill "${pids[0]}"

start_postgres 55432
serve postgres 5182 --Recommend:Store:Provider=postgres \
  "--ConnectionStrings:Postgres=Host=127.0.0.1;Port=55432;Username=postgres;Database=postgres"
bench postgres+embedded 5182 "${pids[-1]}"

#!/usr/bin/env bash
# End to end at scale on the embedded default: a generated shop (default 1 M products, 10 M events) imported into an
# empty host, the host restarted (log replay + saved graph, then the first training), and open-loop load at
# 100/200/500 requests/s for the no-op floor (grpc.health.v1 Check), SimilarProducts, Recommend and SearchProducts,
# with the host's resident memory before and after.
# Usage: scripts/bench-scale.sh [products=1000000] [events=10000000] [seconds=20]
# BENCH_KEEP=DIR keeps the generated shop and the host's data directory in DIR (to restart a host on them later,
# e.g. to profile, without another hour of import).
set -euo pipefail
cd "$(dirname "$0")/.."
products=${1:-1000000}
events=${2:-10000000}
seconds=${3:-20}
cleanup() {
  stop_hosts
  if [ -n "${BENCH_KEEP:-}" ]; then
    mkdir -p "$BENCH_KEEP"
    mv "$work/shop" "$work/scale" "$work/buyers.csv.gz" "$BENCH_KEEP"/ 2>/dev/null || true
    echo "kept the shop and the host's data in $BENCH_KEEP"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
source scripts/bench-host.sh
port=5481
server="http://127.0.0.1:$port"

start_host() { # extra host arguments…
  dotnet "$api" --Recommend:Listen="$server" --Recommend:HttpListen="http://127.0.0.1:$((port + 1000))" \
    --Recommend:DataDirectory="$work/scale" --Recommend:SeedSample=false \
    --Logging:LogLevel:Default=Warning --Logging:LogLevel:Recommend=Information "$@" >>"$work/scale.log" 2>&1 &
  host_pid=$!
  pids+=($host_pid)
  until cli health --server "$server" 2>/dev/null | grep -q '^Serving'; do sleep 1; done
}
memory() { grep -E '^(VmRSS|VmHWM)' "/proc/$host_pid/status" | tr -s ' \n' ' '; echo; }
elapsed() { echo "$(( $(date +%s) - $1 )) s"; }

started=$(date +%s)
cli generate --products "$products" --events "$events" --seed 12 -o "$work/shop"
echo "generated in $(elapsed "$started")"

# Training off while importing: every 10,000 new purchases would start another run.
start_host --Recommend:Training:InHost=false
started=$(date +%s)
cli import products "$work/shop/products.jsonl.gz" --server "$server" --progress json | tail -1
echo "products imported in $(elapsed "$started")"
started=$(date +%s)
cli import history "$work/shop/history.csv.gz" --server "$server" --progress json | tail -1
echo "history imported in $(elapsed "$started"); host $(memory)"
started=$(date +%s)
until grep -q 'Built the HNSW graph\|Loaded the saved HNSW graph' "$work/scale.log"; do sleep 5; done
echo "graph ready $(elapsed "$started") after the import; host $(memory)"
kill "$host_pid"; wait "$host_pid" || true

started=$(date +%s)
start_host
echo "restarted and serving in $(elapsed "$started"); host $(memory)"
until grep -q 'Published item-to-item model' "$work/scale.log"; do sleep 5; done
echo "first model trained $(elapsed "$started") after the restart; host $(memory)"
grep -E 'Loaded the saved HNSW graph|Published item-to-item model|Built the HNSW graph' "$work/scale.log" | tail -3
# Steady state: the co-purchase pairs the import queued are all counted before anything is measured.
queued() { python3 -c "import sqlite3,sys; print(sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True).execute('select count(*) from co_purchase_queue').fetchone()[0])" "$work/scale/recommend.db"; }
started=$(date +%s)
until [ "$(queued)" = 0 ]; do sleep 5; done
echo "co-purchase pairs counted $(elapsed "$started") after the model"

# The bench reads ids from files: the buyers of the first 500,000 history lines are plenty.
# (head ends the pipe early: zcat's SIGPIPE is expected, not a failure.)
{ zcat "$work/shop/history.csv.gz" || true; } | head -500001 | gzip >"$work/buyers.csv.gz"
echo "| call | rate/s | requests | errors | p50 ms | p90 ms | p95 ms | p99 ms | max ms | sender late max ms | client CPU ms per request |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
offset=0
for rate in 100 200 500; do
  for call in health similar recommend search; do
    cli bench --server "$server" --call "$call" --rate "$rate" --seconds "$seconds" --warmup 5 \
      --products "$work/shop/products.jsonl.gz" --history "$work/buyers.csv.gz" --offset "$offset" || true
  done
  # Each rate asks new questions: a repeated one would find its rows in the host's caches.
  offset=$((offset + rate * (seconds + 5)))
done
echo "host after the runs: $(memory)"

#!/usr/bin/env bash
# Serving on data kept by a scale run (BENCH_KEEP=DIR scripts/bench-scale.sh …): a host restarted on DIR/scale with
# the reconcile pass off, then open-loop runs, each with the host's CPU per request (utime + stime from /proc across
# the run, warm-up included, over the requests sent) and its GC counters. A host's first run pays for JIT and cold
# caches: repeat a call to measure it warm. Each run also prints the server's own time for the call, as the share of
# calls within each bucket bound of two histograms at /metrics, warm-up included: the handler (rpc.server.call.duration,
# interceptor to interceptor) and the whole request in Kestrel (http.server.request.duration, from its headers read to
# its stream's completion, which for a few calls comes after the client has its answer). Below the tail, what the
# client sees beyond the second is the socket and the client itself.
# Usage: scripts/bench-kept.sh DIR "recommend:100 recommend:200 similar:200 …" [seconds=20]
# BENCH_HISTORY=FILE draws the users from FILE instead of DIR/buyers.csv.gz. BENCH_OFFSET=N numbers the first run's
# requests from N (default 0): two builds compared from the same N ask the same questions.
set -euo pipefail
cd "$(dirname "$0")/.."
kept=${1:?usage: scripts/bench-kept.sh DIR \"call:rate …\" [seconds]}
runs=${2:?usage: scripts/bench-kept.sh DIR \"call:rate …\" [seconds]}
seconds=${3:-20}
cleanup() {
  stop_hosts
  rm -rf "$work"
}
trap cleanup EXIT
source scripts/bench-host.sh
port=5491
server="http://127.0.0.1:$port"
metrics="http://127.0.0.1:$((port + 1000))/metrics"

dotnet "$api" --Recommend:Listen="$server" --Recommend:HttpListen="http://127.0.0.1:$((port + 1000))" \
  --Recommend:DataDirectory="$kept/scale" --Recommend:SeedSample=false --Recommend:Reindex:ReconcileInterval=00:00:00 \
  --Logging:LogLevel:Default=Warning --Logging:LogLevel:Recommend=Information >"$work/host.log" 2>&1 &
host_pid=$!
pids+=($host_pid)
until cli health --server "$server" 2>/dev/null | grep -q '^Serving'; do sleep 1; done
# The saved model is loaded in the background after SERVING.
until grep -q 'Serving item-to-item model\|Published item-to-item model' "$work/host.log"; do sleep 1; done
echo "host serving; $(grep VmRSS "/proc/$host_pid/status" | tr -s ' \t' ' ')"

gc() { curl -s "$metrics" | grep -E '^dotnet_gc_(collections_total|pause_time_seconds_total|heap_total_allocated_bytes_total)' \
  | sed -E -e 's/^dotnet_gc_//' -e 's/\{otel_scope_name="System.Runtime",gc_heap_generation="(gen[0-9])"\}/_\1/' -e 's/\{otel_scope_name="System.Runtime"\}//' \
  | awk '{print $1 "=" $2}' | tr '\n' ' '; }
# The call's buckets in both histograms as "handler|request le count" lines, one per status code it was answered with
# (none before its first call).
buckets() {
  local scrape
  scrape=$(curl -s "$metrics")
  { grep -E "^rpc_server_call_duration_seconds_bucket\{.*rpc_method=\"[^\"]*/$1\"" <<<"$scrape" || true; } \
    | sed -E 's/.*le="([^"]+)".* ([0-9.e+]+)$/handler \1 \2/'
  { grep -E "^http_server_request_duration_seconds_bucket\{.*http_route=\"/[^\"]*/$1\"" <<<"$scrape" || true; } \
    | sed -E 's/.*le="([^"]+)".* ([0-9.e+]+)$/request \1 \2/'
}
server_split() { # before-file after-file
  python3 - "$1" "$2" <<'PY'
import sys, collections
def load(path):
    counts = collections.Counter()
    for line in open(path):
        histogram, le, n = line.split()
        counts[histogram, float(le)] += float(n)
    return counts
before, after = load(sys.argv[1]), load(sys.argv[2])
for histogram in ("handler", "request"):
    total = after[histogram, float("inf")] - before[histogram, float("inf")]
    print(f"server {histogram} time: " + (" ".join(f"<={le * 1000:g} ms {100 * (after[h, le] - before[h, le]) / total:.1f} %"
                                                   for h, le in sorted(after) if h == histogram and 0.0025 <= le <= 0.1)
                                          if total else "no calls recorded"))
PY
}
offset=${BENCH_OFFSET:-0}
for run in $runs; do
  call=${run%%:*} rate=${run##*:}
  method=$(case $call in similar) echo SimilarProducts ;; recommend) echo Recommend ;; search) echo SearchProducts ;;
    bought-together) echo FrequentlyBoughtTogether ;; trending) echo Trending ;; health) echo Check ;;
    events) echo RecordEvents ;; upsert) echo UpsertProducts ;; esac)
  buckets "$method" >"$work/buckets.before"
  before=$(host_cpu_ms $host_pid)
  echo "gc before: $(gc)"
  cli bench --server "$server" --call "$call" --rate "$rate" --seconds "$seconds" --warmup 5 \
    --products "$kept/shop/products.jsonl.gz" --history "${BENCH_HISTORY:-$kept/buyers.csv.gz}" --offset "$offset" | tail -1
  # The next run asks new questions: a repeated one would find its rows in the host's caches.
  offset=$((offset + rate * (seconds + 5)))
  echo "gc after:  $(gc)"
  buckets "$method" >"$work/buckets.after"
  server_split "$work/buckets.before" "$work/buckets.after"
  echo "host CPU per request: $(python3 -c "print(round(($(host_cpu_ms $host_pid) - $before) / ($rate * ($seconds + 5)), 2))") ms"
done

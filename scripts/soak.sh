#!/usr/bin/env bash
# Soak: mixed traffic at a fixed total rate against one host on the embedded default with the bundled catalog —
# reads (similar 80/s, recommend 80/s, search 20/s) and writes (purchase events 15/s, product upserts 5/s) — for a
# long run, sampling the host's resident memory every 30 s. Prints each call's latency row and the RSS growth.
# Usage: scripts/soak.sh [seconds=600]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
cleanup() { stop_hosts; rm -rf "$work"; }
trap cleanup EXIT
source scripts/bench-host.sh

serve soak 5191
host=${pids[0]}
rss() { awk '/VmRSS/ { print $2 }' "/proc/$host/status"; }

# Warm-up at the same mix, unmeasured, so the baseline RSS is the steady state and not the start-up.
warm=60
for spec in similar:80 recommend:80 search:20 events:15 upsert:5; do
  cli bench --server http://127.0.0.1:5191 --call "${spec%%:*}" --rate "${spec##*:}" --seconds "$warm" --warmup 0 >/dev/null &
done
wait $(jobs -p | grep -v "^$host$") 2>/dev/null || true
start_rss=$(rss)

results=()
for spec in similar:80 recommend:80 search:20 events:15 upsert:5; do
  # From where the warm-up stopped: new questions, not ones whose rows the host has cached.
  cli bench --server http://127.0.0.1:5191 --call "${spec%%:*}" --rate "${spec##*:}" --seconds "$seconds" --warmup 0 \
    --offset $((${spec##*:} * warm)) >"$work/${spec%%:*}.out" &
  results+=($!)
done
max_rss=$start_rss
while kill -0 "${results[0]}" 2>/dev/null; do
  sleep 30
  now=$(rss); [ "$now" -gt "$max_rss" ] && max_rss=$now
  echo "t+$(( SECONDS ))s RSS $((now / 1024)) MB" >&2
done
for pid in "${results[@]}"; do wait "$pid" || true; done
end_rss=$(rss)

echo "| call | rate/s | requests | errors | p50 ms | p90 ms | p95 ms | p99 ms | max ms | sender late max ms | client CPU ms per request |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for spec in similar recommend search events upsert; do cat "$work/$spec.out"; done
awk -v s="$start_rss" -v e="$end_rss" -v m="$max_rss" 'BEGIN { printf "RSS after warm-up %.0f MB, at the end %.0f MB (%+.1f %%), highest %.0f MB (%+.1f %%)\n", s/1024, e/1024, (e-s)*100/s, m/1024, (m-s)*100/s }'

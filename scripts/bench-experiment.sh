#!/usr/bin/env bash
# What a running experiment costs a storefront call: Recommend p50/p99 at a fixed rate on the bundled catalog (embedded
# default), on one host in one run — without an experiment, with a running A/B experiment on the requests' placement
# (assignment, variant ranking, exposure logging), with an interleaving one (two rankings merged), and without again.
# Usage: scripts/bench-experiment.sh [rate=200] [seconds=30]
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-200}
seconds=${2:-30}
trap 'stop_hosts; rm -rf "$work"' EXIT
source scripts/bench-host.sh
serve experiments 5281
server=http://127.0.0.1:5281

experiment() { # id placement mode
  cat >"$work/$1.yaml" <<YAML
experiment_id: $1
name: bench $1
placements: [$2]
mode: $3
variants:
  - { name: A, weight: 1, control: true }
  - { name: B, weight: 1, profile: { diversity_lambda: 0.5, co_purchase_weight: 1.2 } }
YAML
  cli experiments create "$work/$1.yaml" --server "$server" >/dev/null
  cli experiments start "$1" --server "$server" >/dev/null
}

offset=0
bench() { # label placement
  # Each setting gets new questions: a repeated one would find its rows in the host's caches.
  printf "| %s " "$1"; cli bench --server "$server" --call recommend --rate "$rate" --seconds "$seconds" --warmup 5 --placement "$2" --offset "$offset"
  offset=$((offset + rate * (seconds + 5)))
}

echo "| setting | call | rate/s | requests | errors | p50 ms | p90 ms | p95 ms | p99 ms | max ms | sender late max ms | client CPU ms per request |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
bench "no experiment" home
experiment bench-ab home ab
bench "A/B running" home
experiment bench-il cart interleaving
bench "interleaving running" cart
bench "no experiment (again)" pdp
cli experiments report bench-ab --server "$server" | grep -E "^│ (A|B) " | head -2 >&2 || true

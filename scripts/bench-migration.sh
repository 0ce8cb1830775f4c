#!/usr/bin/env bash
# What PostgreSQL migration 0012 (the covering index on events) costs the writers while it runs, on a throwaway cluster
# holding N synthetic events: pgbench records single events at 100/s throughout, once while the index is rebuilt the
# way 0012 first did it (drop and create in one transaction) and once while the shipped script runs (concurrently).
# Prints each rebuild's time and the insert latencies of the 60 s around it.
# Usage: scripts/bench-migration.sh [events=5000000]
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-5000000}
work=$(mktemp -d)
source scripts/bench-postgres.sh
trap 'stop_postgres; rm -rf "$work"' EXIT
port=55434
start_postgres $port
psql() { PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" -h 127.0.0.1 -p $port -U postgres -v ON_ERROR_STOP=1 -q "$@"; }
seconds() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(date +%s.%N)"; }

# The events table as migration 0001 made it, with its first recent-events index.
psql -f <(sed -n '/^create table events/,/^);/p' services/Recommend.Postgres/Migrations/0001_initial.sql)
started=$(date +%s.%N)
psql -c "insert into events select 'e' || i, 1 + i % 4, 'u' || (i * 7919 % 500000), 'p' || (i * 104729 % 1000000), 1, 1,
  now() - (i || ' seconds')::interval, null, null from generate_series(1::bigint, $events) i;" -c "vacuum analyze events;"
echo "loaded $events events in $(seconds "$started") s"
echo "insert into events values ('w' || :client_id || '-' || random(), 1, 'u1', 'p1', 1, 1, now(), null, null);" > "$work/insert.sql"

for way in transaction concurrently; do
  psql -c "drop index if exists events_user_recent;" -c "create index events_user_recent on events (user_id, occurred_at desc);"
  (cd "$work" && "$pgbin/pgbench" -h 127.0.0.1 -p $port -U postgres -n -f insert.sql -R 100 -T 60 -c 2 -l --log-prefix=$way postgres >/dev/null 2>&1) &
  writers=$!
  sleep 5
  started=$(date +%s.%N)
  if [ $way = transaction ]; then
    psql -c "begin;" -c "drop index events_user_recent;" \
      -c "create index events_user_recent on events (user_id, occurred_at desc, type, product_id);" -c "commit;"
  else
    psql -f services/Recommend.Postgres/Migrations/0012_recent_events_covering.sql
  fi
  took=$(seconds "$started")
  wait $writers
  # pgbench's log: client, transaction, latency in µs, …
  cat "$work/$way".* | awk '{print $3}' | sort -n | awk -v way=$way -v took="$took" \
    '{l[NR] = $1} END {printf "%s: rebuilt in %s s; %d inserts, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", way, took, NR, l[int(NR * 0.5)] / 1000, l[int(NR * 0.99)] / 1000, l[NR] / 1000}'
done

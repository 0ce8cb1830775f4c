# Sourced by the bench scripts: builds the host and the CLI in Release into a scratch directory, and starts hosts.
#   serve NAME PORT [extra host arguments…]   — a host on PORT (HTTP on PORT+1000), data in $work/NAME, waits until SERVING
#                                               and its first learned model is published (steady state: nothing trains during a run)
#   cli ARGS…                                 — the built CLI
#   host_cpu_ms PID                           — a host's CPU time so far (utime + stime, all threads), in ms
#   start_postgres PORT                       — a throwaway PostgreSQL cluster (bench-postgres.sh)
# The caller's trap must call stop_hosts (which also stops the cluster) and remove $work.
work=$(mktemp -d)
out="$work/build"
pids=()
source "$(dirname "${BASH_SOURCE[0]}")/bench-postgres.sh"
stop_hosts() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  # Before the caller removes their directories: a host saves its index as it stops.
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  stop_postgres
}

dotnet build services/Recommend.Api -c Release --artifacts-path "$out" -v q >/dev/null
dotnet build services/Recommend.Cli -c Release --artifacts-path "$out" -v q >/dev/null
api="$out/bin/Recommend.Api/release/Recommend.Api.dll"
cli() { dotnet "$out/bin/Recommend.Cli/release/Recommend.Cli.dll" "$@"; }
host_cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) * 1000 / hz}' "/proc/$1/stat"; }

serve() { # name port extra-args...
  local name=$1 port=$2; shift 2
  dotnet "$api" --Recommend:Listen="http://127.0.0.1:$port" --Recommend:HttpListen="http://127.0.0.1:$((port + 1000))" \
    --Recommend:DataDirectory="$work/$name" \
    --Logging:LogLevel:Default=Warning --Logging:LogLevel:Recommend.Training=Information "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do
    cli health --server "http://127.0.0.1:$port" 2>/dev/null | grep -q '^Serving' && grep -q 'Published item-to-item model' "$work/$name.log" && return
    sleep 1
  done
  echo "host $name did not become ready" >&2; cat "$work/$name.log" >&2; exit 1
}

# Sourced by the bench scripts (through bench-host.sh, or alone when no host is needed): a throwaway PostgreSQL cluster
# in $work, which the caller creates and removes.
#   start_postgres PORT   — initdb and start it as the postgres user (PostgreSQL refuses to run as root)
#   stop_postgres         — stop it, if started (the caller's trap calls this, or stop_hosts, before removing $work)
start_postgres() { # port
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  pgdata="$work/pg"
  mkdir -p "$pgdata" && chown postgres "$work" "$pgdata"
  runuser -u postgres -- "$pgbin/initdb" -D "$pgdata" -A trust -U postgres >/dev/null
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" -o "-p $1 -k $work -c listen_addresses=127.0.0.1" -w start >/dev/null
}

stop_postgres() {
  [ -n "${pgdata:-}" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$pgdata" stop -m fast >/dev/null 2>&1 || true
}

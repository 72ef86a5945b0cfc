# A throwaway PostgreSQL for the tests of the store's PostgreSQL backend (docs/postgres.md):
# Debian's server binaries, a cluster made by initdb in a temporary directory, listening on
# a free loopback port and a private socket directory, never a system service. Sourced by
# scripts/lib/in-session.sh:
#   start_test_postgres   exports SWITCHBOARD_TEST_POSTGRES_URL
#   stop_test_postgres    stops the server and deletes its directory (call it from a trap)
# A URL already in the environment (a developer's own server) is used as it is.

PG_TEST_DIR=""
PG_TEST_BIN=""

# The newest installed server's binaries (Debian keeps them out of PATH).
find_postgres_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && echo "$dir"
}

# Runs a server binary as the cluster's owner: PostgreSQL refuses to run as root, so when
# the tests run as root (CI) it runs as the `postgres` user Debian's package creates.
pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_test_postgres() {
  if [ -n "${SWITCHBOARD_TEST_POSTGRES_URL:-}" ]; then
    echo "== PostgreSQL: using SWITCHBOARD_TEST_POSTGRES_URL from the environment"
    return 0
  fi
  local started=$SECONDS
  PG_TEST_BIN=$(find_postgres_bin || true)
  if [ -z "$PG_TEST_BIN" ]; then
    # No cluster from the package: only the binaries are wanted (setup.sh's ensure_apt).
    if ! declare -F ensure_apt >/dev/null; then
      source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
    fi
    as_root mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" \
      | as_root tee /etc/postgresql-common/createcluster.d/switchboard-no-main.conf >/dev/null
    ensure_apt postgresql
    PG_TEST_BIN=$(find_postgres_bin) || { echo "error: PostgreSQL's binaries are not in /usr/lib/postgresql/*/bin after installing it" >&2; return 1; }
  fi
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    echo "error: running as root and there is no 'postgres' user to run PostgreSQL as" >&2
    return 1
  fi

  PG_TEST_DIR=$(mktemp -d /tmp/switchboard-pg.XXXXXX)
  mkdir -p "$PG_TEST_DIR/sock"
  # A password of its own, so the tests go through password authentication (SCRAM) as a
  # production server would; it lives only as long as this cluster and is never printed.
  local password
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  printf '%s\n' "$password" >"$PG_TEST_DIR/pwfile"
  [ "$(id -u)" -eq 0 ] && chown -R postgres: "$PG_TEST_DIR"
  chmod 700 "$PG_TEST_DIR"

  if ! pg_as_owner "$PG_TEST_BIN/initdb" -D "$PG_TEST_DIR/data" -U switchboard \
      --pwfile="$PG_TEST_DIR/pwfile" --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$PG_TEST_DIR/initdb.log" 2>&1; then
    cat "$PG_TEST_DIR/initdb.log" >&2
    echo "error: initdb failed" >&2
    return 1
  fi
  rm -f "$PG_TEST_DIR/pwfile"

  # A random free port; another process can take it between the check and the start,
  # so a failed start is tried again on another port.
  local port attempt
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000))
    # fsync off: a test cluster is deleted afterwards, never recovered from a power cut.
    if pg_as_owner "$PG_TEST_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" \
        -w -t 30 -o "-h 127.0.0.1 -p $port -k $PG_TEST_DIR/sock -c fsync=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null 2>&1; then
      break
    fi
    port=""
  done
  if [ -z "$port" ]; then
    tail -n 20 "$PG_TEST_DIR/server.log" >&2 || true
    echo "error: the test PostgreSQL did not start" >&2
    return 1
  fi
  if ! "$PG_TEST_BIN/createdb" -h "$PG_TEST_DIR/sock" -p "$port" -U switchboard switchboard_test; then
    echo "error: could not create the test database" >&2
    return 1
  fi
  export SWITCHBOARD_TEST_POSTGRES_URL="postgres://switchboard:$password@127.0.0.1:$port/switchboard_test"
  # For the outage test (tests/e2e/failure_cluster.rs): stops and starts this cluster
  # on the same port, as the server's owner.
  local as_owner=""
  [ "$(id -u)" -eq 0 ] && as_owner="runuser -u postgres --"
  cat >"$PG_TEST_DIR/ctl" <<CTL
#!/bin/sh
# The server's owner may not enter the caller's directory.
cd /
case "\$1" in
  stop) exec $as_owner "$PG_TEST_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m fast -w stop ;;
  start) exec $as_owner "$PG_TEST_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 30 \\
    -o "-h 127.0.0.1 -p $port -k $PG_TEST_DIR/sock -c fsync=off -c full_page_writes=off -c max_connections=200" start ;;
  *) echo "usage: \$0 stop|start" >&2; exit 2 ;;
esac
CTL
  chmod 755 "$PG_TEST_DIR/ctl"
  export SWITCHBOARD_TEST_POSTGRES_CTL="$PG_TEST_DIR/ctl"
  echo "== PostgreSQL $("$PG_TEST_BIN/postgres" --version | awk '{print $3}') for the tests on 127.0.0.1:$port (started in $((SECONDS - started)) s)"
}

stop_test_postgres() {
  [ -n "$PG_TEST_DIR" ] || return 0
  if [ -f "$PG_TEST_DIR/data/postmaster.pid" ]; then
    pg_as_owner "$PG_TEST_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PG_TEST_DIR"
  PG_TEST_DIR=""
}

# What the scripts in script/ share: messages, the system packages the tests need, the Python
# environment, and a private PostgreSQL and Redis for one run. Sourced, never run.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="${REDRESS_VENV:-$ROOT/.venv}"

say() { printf 'redress: %s\n' "$*" >&2; }
die() {
  printf 'redress: %s\n' "$*" >&2
  exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }

# --- system packages ------------------------------------------------------------------------

# The directory holding PostgreSQL's server programs (initdb, pg_ctl, postgres): the PATH
# first, then Debian's and Ubuntu's versioned directories, newest first.
pg_bindir() {
  if have initdb && have pg_ctl; then
    dirname "$(command -v initdb)"
    return 0
  fi
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin /usr/pgsql-*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

# The package manager of this system, as the command that installs packages without asking.
package_manager() {
  if have apt-get; then
    echo apt
  elif have dnf; then
    echo dnf
  else
    echo unknown
  fi
}

# Package names for one need on a package manager.
package_for() {
  local need=$1 manager=$2
  case "$manager:$need" in
    apt:cc) echo build-essential ;;
    apt:postgres) echo postgresql ;;
    apt:redis) echo redis-server ;;
    apt:venv) echo python3-venv ;;
    dnf:cc) echo gcc ;;
    dnf:postgres) echo postgresql-server ;;
    dnf:redis) echo redis ;;
    dnf:venv) echo python3 ;;
  esac
}

# What the tests need from the system and do not find: any of cc, postgres, redis, venv.
# PostgreSQL's server is needed only when the run starts its own (no REDRESS_TEST_DATABASE_URL).
missing_needs() {
  local needs=()
  have cc || have gcc || needs+=(cc)
  if [ -z "${REDRESS_TEST_DATABASE_URL:-}" ]; then
    pg_bindir >/dev/null || needs+=(postgres)
  fi
  { have redis-server && have redis-cli; } || needs+=(redis)
  python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || needs+=(venv)
  echo "${needs[@]}"
}

# Installs the system packages the tests need and are missing, as root or through sudo;
# otherwise names the one command that installs them, and stops.
install_system_packages() {
  local needs manager packages=() need command
  needs=$(missing_needs)
  [ -n "$needs" ] || return 0
  manager=$(package_manager)
  [ "$manager" != unknown ] || die "missing: $needs; install a C compiler, PostgreSQL 15+, Redis 7+ and Python 3 with venv, then run this again"
  for need in $needs; do
    packages+=("$(package_for "$need" "$manager")")
  done
  case "$manager" in
    apt) command="apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${packages[*]}" ;;
    dnf) command="dnf install -y ${packages[*]}" ;;
  esac
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if have sudo && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
      sudo=(sudo)
    else
      die "missing: $needs; install them with: sudo sh -c '$command'"
    fi
  fi
  say "installing ${packages[*]} (missing: $needs)"
  "${sudo[@]}" sh -c "$command" || die "installing ${packages[*]} failed; run: sudo sh -c '$command'"
  needs=$(missing_needs)
  [ -z "$needs" ] || die "still missing after installing ${packages[*]}: $needs"
}

# --- the Python environment -----------------------------------------------------------------

# Makes the virtual environment the Python tests and tools run in, and installs their
# requirements into it when they changed since the last run.
python_env() {
  local requirements=("$ROOT/tests/python/requirements.txt" "$ROOT/tests/deploy/requirements.txt")
  if [ ! -x "$VENV/bin/python" ]; then
    say "making the Python environment in $VENV"
    python3 -m venv "$VENV" || die "python3 -m venv $VENV failed: install python3-venv (script/bootstrap does)"
  fi
  local stamp
  stamp=$(cat "${requirements[@]}" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$VENV/.requirements" 2>/dev/null)" != "$stamp" ]; then
    say "installing the Python requirements into $VENV"
    # helm-sdkpy declares Python 3.12+ but works on 3.10 and 3.11.
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --ignore-requires-python \
      -r "${requirements[0]}" -r "${requirements[1]}" ||
      die "pip could not install the Python requirements into $VENV (see above)"
    echo "$stamp" >"$VENV/.requirements"
  fi
}

# --- a private PostgreSQL and Redis ---------------------------------------------------------

SERVICES_DIR="${REDRESS_TEST_SERVICES_DIR:-$ROOT/target/test-services}"
PG_DIR=""
PG_RUNAS=()
REDIS_PID=""
REDIS_DIR=""

# A TCP port on 127.0.0.1 that nothing answers on now.
pick_port() {
  local port
  while :; do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    if ! (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
}

# Whether something accepts TCP connections at the host and port of a URL.
url_answers() {
  local url=$1 default_port=$2
  [[ $url =~ ://([^@/]*@)?(\[[^]]*\]|[^:/?]+)(:([0-9]+))? ]] || return 1
  local host=${BASH_REMATCH[2]} port=${BASH_REMATCH[4]:-$default_port}
  host=${host#[}
  host=${host%]}
  timeout 3 bash -c ": >/dev/tcp/$host/$port" 2>/dev/null
}

# Stops what an earlier run left behind when it was killed before it could clean up.
reap_stale_services() {
  local dir owner
  for dir in "$SERVICES_DIR"/run.*; do
    [ -d "$dir" ] || continue
    owner=$(cat "$dir/owner" 2>/dev/null || echo 0)
    if [ "$owner" -gt 0 ] && kill -0 "$owner" 2>/dev/null; then
      continue
    fi
    stop_postgres_in "$dir"
    if [ -f "$dir/redis.pid" ]; then
      kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
    fi
    if [ -f "$dir/pg-elsewhere" ]; then
      rm -rf "$(cat "$dir/pg-elsewhere")"
    fi
    rm -rf "$dir"
  done
}

stop_postgres_in() {
  local dir=$1 bindir
  [ -f "$dir/pg/data/postmaster.pid" ] || return 0
  bindir=$(pg_bindir) || return 0
  local runas=()
  if [ "$(id -u)" -eq 0 ]; then
    runas=(runuser -u postgres --)
  fi
  "${runas[@]}" "$bindir/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
}

# Starts PostgreSQL of this run's own in $1 on a free port: trusted local connections, the
# `postgres` superuser, no Unix socket, durability traded for speed. As root it runs as the
# `postgres` user, which PostgreSQL requires.
start_postgres() {
  local run=$1 bindir
  bindir=$(pg_bindir) || die "no PostgreSQL server programs (initdb, pg_ctl) found: run script/bootstrap, or set REDRESS_TEST_DATABASE_URL to a running server"
  PG_DIR="$run/pg"
  mkdir -p "$PG_DIR"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "PostgreSQL cannot run as root and there is no postgres user: create one with: useradd --system --home-dir /var/lib/postgresql postgres"
    PG_RUNAS=(runuser -u postgres --)
    chown postgres "$PG_DIR"
    if ! "${PG_RUNAS[@]}" test -w "$PG_DIR"; then
      # The postgres user cannot reach this checkout (a home directory of mode 700, say).
      rm -rf "$PG_DIR"
      PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/redress-pg.XXXXXX")
      chown postgres "$PG_DIR"
      echo "$PG_DIR" >"$run/pg-elsewhere"
    fi
  fi
  if ! "${PG_RUNAS[@]}" "$bindir/initdb" -D "$PG_DIR/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
    >"$PG_DIR/initdb.log" 2>&1; then
    cat "$PG_DIR/initdb.log" >&2
    die "initdb failed in $PG_DIR/data (its output is above)"
  fi
  cat >>"$PG_DIR/data/postgresql.conf" <<'EOF'
# A private server for one test run.
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 400
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  local attempt port
  for attempt in 1 2 3 4 5; do
    port=$(pick_port)
    if "${PG_RUNAS[@]}" "$bindir/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
      -o "-p $port" start >/dev/null 2>&1; then
      PG_PORT=$port
      return 0
    fi
    grep -q 'could not bind\|Address already in use' "$PG_DIR/postgres.log" 2>/dev/null || break
  done
  tail -n 20 "$PG_DIR/postgres.log" >&2 2>/dev/null || true
  die "PostgreSQL did not start from $bindir (its log is above: $PG_DIR/postgres.log)"
}

# Starts redis-server of this run's own in $1 on a free port, keeping nothing on disk.
start_redis() {
  local run=$1 attempt port deadline
  have redis-server || die "redis-server is not installed: run script/bootstrap, or set REDRESS_TEST_REDIS_URL to a running server"
  REDIS_DIR="$run/redis"
  mkdir -p "$REDIS_DIR"
  for attempt in 1 2 3 4 5; do
    port=$(pick_port)
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$REDIS_DIR" \
      --logfile "$REDIS_DIR/redis.log" &
    REDIS_PID=$!
    echo "$REDIS_PID" >"$run/redis.pid"
    deadline=$((SECONDS + 15))
    while kill -0 "$REDIS_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
      if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; then
        REDIS_PORT=$port
        return 0
      fi
      sleep 0.1
    done
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
    REDIS_PID=""
    grep -q 'Address already in use' "$REDIS_DIR/redis.log" 2>/dev/null || break
  done
  tail -n 20 "$REDIS_DIR/redis.log" >&2 2>/dev/null || true
  die "redis-server did not start (its log is above: $REDIS_DIR/redis.log)"
}

# Stops this run's servers and removes their files.
stop_services() {
  if [ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
    "${PG_RUNAS[@]}" "$(pg_bindir)/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      "${PG_RUNAS[@]}" "$(pg_bindir)/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 ||
      say "PostgreSQL in $PG_DIR did not stop"
  fi
  if [ -n "$REDIS_PID" ]; then
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
  fi
  if [ -n "${RUN_DIR:-}" ]; then
    if [ -f "$RUN_DIR/pg-elsewhere" ]; then
      rm -rf "$(cat "$RUN_DIR/pg-elsewhere")"
    fi
    rm -rf "$RUN_DIR"
  fi
  PG_DIR="" REDIS_PID="" RUN_DIR=""
}

# Points the tests at PostgreSQL and Redis: the servers REDRESS_TEST_DATABASE_URL and
# REDRESS_TEST_REDIS_URL name when they are set, otherwise servers of this run's own, stopped
# by stop_services (which the caller traps on EXIT).
start_services() {
  local started=()
  if [ -n "${REDRESS_TEST_DATABASE_URL:-}" ]; then
    url_answers "$REDRESS_TEST_DATABASE_URL" 5432 ||
      die "nothing answers at REDRESS_TEST_DATABASE_URL=$REDRESS_TEST_DATABASE_URL: start that server, or unset the variable and a private one is started"
  fi
  if [ -n "${REDRESS_TEST_REDIS_URL:-}" ]; then
    url_answers "$REDRESS_TEST_REDIS_URL" 6379 ||
      die "nothing answers at REDRESS_TEST_REDIS_URL=$REDRESS_TEST_REDIS_URL: start that server, or unset the variable and a private one is started"
  fi
  if [ -z "${REDRESS_TEST_DATABASE_URL:-}" ] || [ -z "${REDRESS_TEST_REDIS_URL:-}" ]; then
    mkdir -p "$SERVICES_DIR"
    reap_stale_services
    RUN_DIR=$(mktemp -d "$SERVICES_DIR/run.XXXXXX")
    chmod 755 "$RUN_DIR"
    echo $$ >"$RUN_DIR/owner"
  fi
  if [ -z "${REDRESS_TEST_DATABASE_URL:-}" ]; then
    start_postgres "$RUN_DIR"
    export REDRESS_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
    started+=("PostgreSQL on 127.0.0.1:$PG_PORT")
  fi
  if [ -z "${REDRESS_TEST_REDIS_URL:-}" ]; then
    start_redis "$RUN_DIR"
    export REDRESS_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
    started+=("Redis on 127.0.0.1:$REDIS_PORT")
  fi
  if [ "${#started[@]}" -eq 2 ]; then
    say "started ${started[0]} and ${started[1]} for this run; they stop when it ends"
  elif [ "${#started[@]}" -eq 1 ]; then
    say "started ${started[0]} for this run; it stops when the run ends"
  fi
  say "tests use PostgreSQL at $REDRESS_TEST_DATABASE_URL and Redis at $REDRESS_TEST_REDIS_URL"
}

# --- cargo deny -----------------------------------------------------------------------------

# `cargo deny check`. Where a snapshot of the RustSec advisory database sits beside the
# repository (../shared/advisory-db, a plain tree), it is opened offline as the git repository
# cargo-deny expects; otherwise cargo-deny fetches the database itself.
deny_check() {
  local snapshot="$ROOT/../shared/advisory-db" dbs="$ROOT/target/advisory-dbs" offline=()
  # Every platform's crates are in the graph cargo-deny reads, so fetch them first.
  cargo fetch --locked --quiet || die "cargo fetch failed: cargo deny needs every dependency's sources (see above)"
  if [ -f "$snapshot/SNAPSHOT" ]; then
    # cargo-deny keeps the database of https://github.com/rustsec/advisory-db in this directory.
    local db="$dbs/advisory-db-3157b0e258782691" stamp
    stamp=$(sha256sum "$snapshot/SNAPSHOT" | cut -d' ' -f1)
    if [ "$(cat "$dbs/.snapshot" 2>/dev/null)" != "$stamp" ]; then
      rm -rf "$dbs"
      mkdir -p "$dbs"
      cp -r "$snapshot" "$db"
      git -C "$db" init --quiet
      git -C "$db" add --all
      git -C "$db" -c user.name=redress -c user.email=redress@localhost commit --quiet -m "advisory database snapshot" ||
        die "could not prepare the advisory database snapshot in $db"
      echo "$stamp" >"$dbs/.snapshot"
    fi
    export REDRESS_ADVISORY_DBS="$dbs"
    offline=(--offline)
  fi
  "$VENV/bin/cargo-deny" "${offline[@]}" check
}

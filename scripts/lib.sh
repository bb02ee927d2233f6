# Shared by run.sh and test.sh: install what is missing, start a local PostgreSQL under the repository.
# shellcheck shell=bash

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    log "need root for: $*"; return 1; fi
}

# ensure_packages PKG... : apt-get install the Debian packages that are not installed yet.
ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

require_dotnet() {
  if ! command -v dotnet >/dev/null; then
    log "the .NET 10 SDK is required (https://learn.microsoft.com/dotnet/core/install/linux-debian); Debian does not package it"
    exit 1
  fi
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }

# start_local_postgres DIR PORT : initialise (once) and start a cluster in DIR listening on 127.0.0.1:PORT,
# with a database "onboarding"; prints its connection string. Runs the server as "postgres" when we are root,
# because PostgreSQL refuses to run as root.
start_local_postgres() {
  local dir port bin run=()
  dir=$(realpath -m "$1"); port=$2; bin=$(pg_bin)
  [ "$(id -u)" -eq 0 ] && run=(runuser -u postgres --)
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
  if [ ! -f "$dir/PG_VERSION" ]; then
    log "initialising PostgreSQL cluster in $dir"
    "${run[@]}" "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
  fi
  if "${run[@]}" "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    # Already running (perhaps started with another port): use the port it actually listens on.
    port=$(sed -n 4p "$dir/postmaster.pid")
  else
    log "starting PostgreSQL on 127.0.0.1:$port"
    "${run[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start >/dev/null
  fi
  "${run[@]}" "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='onboarding'" | grep -q 1 \
    || "${run[@]}" "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE onboarding" >/dev/null
  echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=onboarding"
}

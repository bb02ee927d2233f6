#!/usr/bin/env bash
# Runs the Onboarding service: http://localhost:8080, Swagger UI at http://localhost:8080/swagger.
# Installs PostgreSQL if missing and starts a local cluster under .data/ unless ONBOARDING_DB is set.
# Extra arguments go to the host, e.g. `./run.sh migrate` applies migrations and exits.
# Telemetry: installs mosquitto, writes its configuration with `Onboarding.Host broker-config .data/broker` and starts it
# (devices on TLS port 8883, the ingester on 127.0.0.1:1884); ONBOARDING_TELEMETRY=0 skips this.
# `./run.sh demo [N] [--keep] [demo options]`: the host (both roles) in the background, then the device simulator's demo
# against it (README "The one-command demo"); the host is stopped at the end unless --keep is given.
# ONBOARDING_DEMO_DIR (default .data/demo) holds the host's log and a directory per run; ONBOARDING_SKIP_BUILD=1 uses
# what was built before (ONBOARDING_CONFIGURATION, default Release).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/lib.sh

demo=0 demo_keep=0 demo_devices=100 demo_args=()
if [ "${1:-}" = demo ]; then
  demo=1; shift
  if [[ "${1:-}" =~ ^[0-9]+$ ]]; then demo_devices=$1; shift; fi
  for arg in "$@"; do
    if [ "$arg" = --keep ]; then demo_keep=1; else demo_args+=("$arg"); fi
  done
  set --
  # The demo's webhook receiver listens on loopback over plain HTTP, which the NMS refuses unless told (SSRF guard).
  export Notifications__AllowHttpWebhooks=true Notifications__AllowPrivateNetworkWebhooks=true
fi

require_dotnet
# curl and jq: what the README walk drives the host with.
ensure_packages curl jq
if [ -z "${ONBOARDING_DB:-}" ]; then
  ensure_packages postgresql
  ONBOARDING_DB=$(start_local_postgres .data/pg "${ONBOARDING_PG_PORT:-55432}")
fi
export ConnectionStrings__Onboarding="$ONBOARDING_DB"
# The key store: NMS SSH host keys (ssh-host-keys/), the telemetry device CA (telemetry-ca/); generated on first start.
export KeyStore__Directory="${KeyStore__Directory:-$PWD/.data/keys}"
# Earlier versions kept the host keys directly in .data/keys and the CA in .data/telemetry-ca: move them into the
# store's subdirectories once, so the host-key fingerprints manufacturers pinned stay the same.
if [ -f .data/keys/ssh_host_ed25519_key ] && [ ! -e .data/keys/ssh-host-keys ]; then
  mkdir -m 700 .data/keys/ssh-host-keys && mv .data/keys/ssh_host_* .data/keys/ssh-host-keys/
fi
if [ -d .data/telemetry-ca ] && [ ! -e .data/keys/telemetry-ca ]; then
  mkdir -p -m 700 .data/keys && mv .data/telemetry-ca .data/keys/telemetry-ca
  # A broker started by an earlier run reads the CA and CRL from the old path: stop it; it is restarted below.
  [ -s .data/broker/mosquitto.pid ] && kill "$(cat .data/broker/mosquitto.pid)" 2>/dev/null && sleep 1 || true
fi
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Production}"
# The NMS admin key (X-Admin-Key: telemetry credentials, GET /api/operations/outbox), generated once.
if [ -z "${Admin__ApiKey:-}" ]; then
  mkdir -p .data
  # Earlier versions kept it as the telemetry admin key: keep using it.
  [ -s .data/admin-key ] || [ ! -s .data/telemetry-admin-key ] || mv .data/telemetry-admin-key .data/admin-key
  [ -s .data/admin-key ] || (umask 077; head -c 32 /dev/urandom | base64 | tr -d '/+=' > .data/admin-key)
  export Admin__ApiKey="$(cat .data/admin-key)"
  log "admin key (X-Admin-Key) is in .data/admin-key"
fi

configuration=${ONBOARDING_CONFIGURATION:-Release}
if [ "${ONBOARDING_SKIP_BUILD:-0}" != 1 ]; then
  log "building"
  dotnet build src/Onboarding.Host -c "$configuration" -v quiet -nologo
  [ $demo = 0 ] || dotnet build tools/Onboarding.DeviceSim -c "$configuration" -v quiet -nologo
fi
out="$PWD/src/Onboarding.Host/bin/$configuration/net10.0"

if [ "${ONBOARDING_TELEMETRY:-1}" = "1" ] && [ $# -eq 0 ]; then
  ensure_packages mosquitto
  export Telemetry__Enabled=true
  # mosquitto would otherwise switch to the `mosquitto` user, which cannot read our 0600 key files.
  export Telemetry__Broker__RunAsUser="${Telemetry__Broker__RunAsUser:-$(id -un)}"
  # After a revocation the host sends this mosquitto SIGHUP, so it rereads the CRL.
  export Telemetry__Broker__PidFile="$PWD/.data/broker/mosquitto.pid"
  pid_file=.data/broker/mosquitto.pid
  if ! { [ -s "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }; then
    dotnet "$out/Onboarding.Host.dll" broker-config "$PWD/.data/broker" --contentRoot "$out" >/dev/null
    mosquitto -d -c "$PWD/.data/broker/mosquitto.conf"
    log "mosquitto started (devices: TLS 8883; log: .data/broker/mosquitto.log)"
  fi
fi

if [ $demo = 1 ]; then
  # The first of Urls (default http://localhost:8080), with a wildcard host made loopback.
  api=$(printf '%s' "${Urls:-http://localhost:8080}" | cut -d';' -f1 | sed -E 's#//(\*|\+|0\.0\.0\.0|\[::\])#//localhost#')
  demo_dir=${ONBOARDING_DEMO_DIR:-.data/demo}
  mkdir -p "$demo_dir"
  dotnet "$out/Onboarding.Host.dll" --contentRoot "$out" > "$demo_dir/host.log" 2>&1 &
  host_pid=$!
  [ $demo_keep = 1 ] || trap 'kill "$host_pid" 2>/dev/null; wait "$host_pid" 2>/dev/null || true' EXIT
  log "host started (pid $host_pid, log $demo_dir/host.log) on $api; running the demo with $demo_devices devices"
  status=0
  dotnet "$PWD/tools/Onboarding.DeviceSim/bin/$configuration/net10.0/Onboarding.DeviceSim.dll" demo --api "$api" -n "$demo_devices" \
    --work-dir "$demo_dir" ${demo_args[@]+"${demo_args[@]}"} || status=$?
  if [ $demo_keep = 1 ]; then log "the host keeps running (pid $host_pid; stop it with: kill $host_pid)"; else log "stopping the host"; fi
  exit $status
fi

[ $# -eq 0 ] && log "Onboarding on http://localhost:8080  (Swagger UI: http://localhost:8080/swagger)"
# The command (e.g. migrate) must come first: the host reads args[0].
exec dotnet "$out/Onboarding.Host.dll" "$@" --contentRoot "$out"

#!/usr/bin/env bash
# Runs the Onboarding service: http://localhost:8080, Swagger UI at http://localhost:8080/swagger.
# Installs PostgreSQL if missing and starts a local cluster under .data/ unless ONBOARDING_DB is set.
# Extra arguments go to the host, e.g. `./run.sh migrate` applies migrations and exits.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/lib.sh

require_dotnet
if [ -z "${ONBOARDING_DB:-}" ]; then
  ensure_packages postgresql
  ONBOARDING_DB=$(start_local_postgres .data/pg "${ONBOARDING_PG_PORT:-55432}")
fi
export ConnectionStrings__Onboarding="$ONBOARDING_DB"
export HostKeys__Directory="${HostKeys__Directory:-$PWD/.data/keys}"
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Production}"

log "building"
dotnet build src/Onboarding.Host -c Release -v quiet -nologo
log "Onboarding on http://localhost:8080  (Swagger UI: http://localhost:8080/swagger)"
out="$PWD/src/Onboarding.Host/bin/Release/net10.0"
exec dotnet "$out/Onboarding.Host.dll" --contentRoot "$out" "$@"

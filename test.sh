#!/usr/bin/env bash
# Runs the whole test suite. Installs what the tests need (PostgreSQL server binaries, OpenSSH tools) if missing.
# The tests start their own throwaway PostgreSQL cluster unless ONBOARDING_TEST_DB is set.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/lib.sh

require_dotnet
ensure_packages openssl curl jq postgresql openssh-client openssh-server openssh-sftp-server sshpass socat python3-paramiko python3-asyncssh python3-ncclient netconfd mosquitto mosquitto-clients ssh-audit kea-dhcp4-server kea-dhcp6-server dnsmasq-base python3-aiosmtpd

log "building"
dotnet build Onboarding.sln -c Release -v quiet -nologo
log "testing"
out=$(mktemp)
status=0
# A test that hangs (a peer that never answers and a wait without a bound) is stopped after 15 minutes and named in
# the output, instead of holding the run until CI's limit.
dotnet test Onboarding.sln -c Release --no-build -nologo --blame-hang-timeout 15m --blame-hang-dump-type none "$@" 2>&1 | tee "$out" || status=$?
# One closing line for the whole run, summed over the test assemblies.
grep -E '^(Passed|Failed)!' "$out" | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\1 \2 \3/' \
  | awk '{f+=$1; p+=$2; s+=$3} END {printf "%d passed, %d failed, %d skipped\n", p, f, s}'
rm -f "$out"
exit "$status"

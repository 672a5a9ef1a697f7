#!/usr/bin/env bash
# `make lint`: the installed Python packages against a vulnerability database (pip-audit).
#   PIP_AUDIT_SERVICE=pypi|osv    where the advisories come from (default pypi: PyPI's JSON API)
#   ALLOW_UNAUDITED=1             on a machine that cannot reach that service, warn and go on
#
# It fails closed. Without --strict, pip-audit reports "No known vulnerabilities found" and exits 0 even
# when it could look up none of the packages (PyPI unreachable or a mirror without the JSON API): a
# silent pass. With --strict such a skip is an error, and this script says so in plain words.
set -uo pipefail

BIN=${BIN:-.venv/bin}
service=${PIP_AUDIT_SERVICE:-pypi}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

"$BIN/pip-audit" --strict --skip-editable --progress-spinner off --vulnerability-service "$service" \
  >"$out" 2>&1
status=$?
if [ $status -eq 0 ]; then
  cat "$out"
  exit 0
fi
if grep -Eq "Found [0-9]+ known vulnerabilit" "$out"; then
  cat "$out"
  echo "pip-audit: installed packages have known vulnerabilities (above): upgrade them." >&2
  exit 1
fi

# The first package it could not look up, else the exception the run ended with (its last line).
reason=$(grep -m1 "could not be audited" "$out" || tail -n1 "$out")
{
  echo "pip-audit: THE DEPENDENCY AUDIT COULD NOT BE DONE (vulnerability service: $service)."
  echo "  Reason: ${reason:0:300}"
  echo "  No package was checked; this is not a clean result. Run it where $service is reachable"
  echo "  (PIP_AUDIT_SERVICE=osv uses api.osv.dev instead of PyPI's JSON API)."
} >&2
if [ "${ALLOW_UNAUDITED:-0}" = 1 ]; then
  echo "  ALLOW_UNAUDITED=1: going on without it." >&2
  exit 0
fi
echo "  To lint without it on an offline machine: make lint ALLOW_UNAUDITED=1" >&2
exit 1

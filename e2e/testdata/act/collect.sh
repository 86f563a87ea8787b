#!/usr/bin/env bash
# Saves what the workflow knows of the self-heal step (its outputs and
# outcome, and its JSON report) where the test reads them.
set -euo pipefail
mkdir -p "$SELF_HEAL_E2E_OUT"
printf '%s' "$OUTPUTS" >"$SELF_HEAL_E2E_OUT/outputs.json"
printf '%s' "$OUTCOME" >"$SELF_HEAL_E2E_OUT/outcome"
if [ -n "${REPORT:-}" ] && [ -f "$REPORT" ]; then
  cp "$REPORT" "$SELF_HEAL_E2E_OUT/report.json"
fi

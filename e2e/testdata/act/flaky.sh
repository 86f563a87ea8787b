#!/usr/bin/env bash
# A step that fails once with a transient network error, then passes. Its
# state is a file in the working directory, which is fresh in every run.
set -euo pipefail
if [ -f .flaky-failed-once ]; then
  echo "Apply complete! Resources: 1 added, 0 changed, 0 destroyed."
  exit 0
fi
touch .flaky-failed-once
echo "Error: reading S3 object: read tcp 10.0.0.1:443: connection reset by peer" >&2
exit 4

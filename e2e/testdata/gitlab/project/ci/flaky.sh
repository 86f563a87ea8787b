#!/bin/sh
# A step that fails once per job with a network error the flaky-net
# pattern recognises, and succeeds when run again. It names its first
# argument, so that a test sees the command's quoting survive.
state="$CI_PROJECT_DIR/.state/flaky-$CI_JOB_ID"
if [ -f "$state" ]; then
  echo "applied to $1: 1 added, 0 changed, 0 destroyed"
  exit 0
fi
mkdir -p "${state%/*}"
: >"$state"
echo "Error: connection reset by peer (flaky)" >&2
exit 4

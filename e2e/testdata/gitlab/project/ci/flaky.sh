#!/bin/sh
# A step that fails once per job with a network error the flaky-net
# pattern recognises, and succeeds when run again. It names its first
# argument, so that a test sees the command's quoting survive. It prints
# on stderr only, as self-heal prints its sections: gitlab-ci-local reads
# a job's stdout and stderr from two pipes, so only lines of one stream
# keep their order in the job log.
state="$CI_PROJECT_DIR/.state/flaky-$CI_JOB_ID"
if [ -f "$state" ]; then
  echo "applied to $1: 1 added, 0 changed, 0 destroyed" >&2
  exit 0
fi
mkdir -p "${state%/*}"
: >"$state"
echo "Error: connection reset by peer (flaky)" >&2
exit 4

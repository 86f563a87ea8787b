#!/usr/bin/env bash
# The self-heal demo: a terraform apply is killed while it holds the state
# lock of an s3 backend (on moto_server), and `self-heal run` heals the next
# apply: it sees that the lock's holder is gone, backs up the state, forces
# the lock and runs the apply again.
#
# Needs go, terraform (1.11 or later) and moto_server on PATH; needs no
# network and no AWS account. Everything is written to a new temporary
# directory, which is kept so the report can be read afterwards.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/self-heal-demo.XXXXXX")
holder=""

heading() { printf '\n\033[1;36m==> %s\033[0m\n' "$*"; }

cleanup() {
  if [ -n "$holder" ]; then kill -KILL -- "-$holder" 2>/dev/null || true; fi
  "$root/scripts/moto.sh" stop "$work/moto" || true
}
trap cleanup EXIT

for tool in go terraform moto_server; do
  command -v "$tool" >/dev/null || { echo "demo: $tool is not on PATH" >&2; exit 1; }
done

heading "Build self-heal"
(cd "$root" && go build -o "$work/bin/self-heal" .)
echo "built $work/bin/self-heal"

heading "Start a local AWS (moto_server on 127.0.0.1)"
"$root/scripts/moto.sh" start "$work/moto"
endpoint=$(cat "$work/moto/endpoint")
"$root/scripts/moto.sh" bucket "$work/moto" demo-state
echo "created bucket demo-state"

# Terraform and self-heal see only this demo's settings: a CLI config of
# its own, fake credentials and the moto endpoint.
while IFS='=' read -r name _; do
  case "$name" in TF_* | AWS_*) unset "$name" ;; esac
done < <(env)
printf 'disable_checkpoint = true\n' >"$work/terraform.rc"
export TF_CLI_CONFIG_FILE="$work/terraform.rc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
# The secret is a value found nowhere else: self-heal masks secrets from the
# environment in everything it reports.
export AWS_ACCESS_KEY_ID=AKIADEMOFAKEACCESSKEY AWS_SECRET_ACCESS_KEY=demo-fake-secret-access-key
export AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL="$endpoint"

heading "A stack with its state in S3, locked with use_lockfile"
stack="$work/stack"
mkdir -p "$stack"
cp "$root/e2e/harness/stack/main.tf" "$stack/main.tf"
cat >"$stack/backend.hcl" <<HCL
bucket       = "demo-state"
key          = "demo/terraform.tfstate"
endpoints    = { s3 = "$endpoint", dynamodb = "$endpoint" }
use_lockfile = true
HCL
cd "$stack"
terraform init -input=false -backend-config=backend.hcl >/dev/null
echo "terraform init done in $stack"
TF_VAR_sleep=0 TF_VAR_run_id=1 terraform apply -auto-approve -input=false -no-color |
  grep 'Apply complete'
echo "the state in s3://demo-state/demo/terraform.tfstate holds terraform_data.slow"

heading "An apply is killed while it holds the lock (as a cancelled CI job would be)"
# Job control gives the apply its own process group, so the kill reaches
# the provisioner's sleep too.
set -m
TF_VAR_sleep=60 TF_VAR_run_id=2 terraform apply -auto-approve -input=false -no-color \
  >"$work/killed-apply.log" 2>&1 &
holder=$!
set +m
for _ in $(seq 1 600); do
  grep -q 'local-exec): Executing' "$work/killed-apply.log" && break
  kill -0 "$holder" 2>/dev/null || { cat "$work/killed-apply.log"; exit 1; }
  sleep 0.1
done
grep -q 'local-exec): Executing' "$work/killed-apply.log" || {
  echo "demo: the apply did not start creating within 60s" >&2; exit 1; }
tail -n 3 "$work/killed-apply.log"
kill -KILL -- "-$holder"
wait "$holder" 2>/dev/null || true
holder=""
echo "(killed with SIGKILL: terraform had no chance to release the lock)"

heading "The state is now locked: a plain terraform plan fails"
terraform plan -input=false -lock-timeout=0s || true

heading "self-heal run -- terraform apply -auto-approve -input=false"
set +e
TF_VAR_sleep=1 TF_VAR_run_id=3 "$work/bin/self-heal" run \
  --report "$work/report.json" --artifact-dir "$work/artifacts" \
  -- terraform apply -auto-approve -input=false
status=$?
set -e

heading "Result"
echo "self-heal exit status: $status"
echo "report:                $work/report.json"
echo "state backups:         $(ls "$work/artifacts" 2>/dev/null | tr '\n' ' ')"
echo "(remove the demo's files with: rm -rf $work)"
exit "$status"

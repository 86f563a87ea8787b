#!/usr/bin/env bash
# Tools the GitHub Actions tests need, installed once into a cache outside
# the repository and reused:
#
#   scripts/tools.sh act        build nektos/act and print its path
#   scripts/tools.sh openapi    install GitHub's OpenAPI description (npm
#                               @octokit/openapi) and print the JSON's path
#   scripts/tools.sh all        both
#
# The cache is $SELF_HEAL_CACHE, else $HOME/.cache/self-heal. Progress goes
# to stderr; stdout carries only the path asked for.
set -euo pipefail

ACT_VERSION=v0.2.89
OPENAPI_VERSION=23.0.2

cache=${SELF_HEAL_CACHE:-${HOME}/.cache/self-heal}

# act builds nektos/act with the Go toolchain into $cache/act/<version>.
act() {
  local dir="$cache/act/$ACT_VERSION"
  if [ ! -x "$dir/act" ]; then
    echo "tools: building nektos/act $ACT_VERSION into $dir" >&2
    mkdir -p "$dir"
    GOBIN="$dir" GOFLAGS=-buildvcs=false go install "github.com/nektos/act@$ACT_VERSION" >&2
  fi
  echo "$dir/act"
}

# openapi installs @octokit/openapi with npm into $cache/openapi/<version>
# and prints the path of the api.github.com description (JSON, with $refs).
openapi() {
  local dir="$cache/openapi/$OPENAPI_VERSION"
  local spec="$dir/node_modules/@octokit/openapi/generated/api.github.com.json"
  if [ ! -f "$spec" ]; then
    echo "tools: installing @octokit/openapi@$OPENAPI_VERSION into $dir" >&2
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error \
      "@octokit/openapi@$OPENAPI_VERSION" >&2
  fi
  [ -f "$spec" ] || { echo "tools: $spec is missing after install" >&2; exit 1; }
  echo "$spec"
}

case "${1:-}" in
  act) act ;;
  openapi) openapi ;;
  all) act && openapi ;;
  *) echo "usage: $0 act|openapi|all" >&2; exit 2 ;;
esac

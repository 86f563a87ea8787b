#!/usr/bin/env bash
# Tools the GitLab CI tests need, installed once into a cache outside the
# repository and reused:
#
#   scripts/gitlab-tools.sh gitlab-ci-local   install gitlab-ci-local (npm) and
#                                             rsync (Debian) when missing, and
#                                             print gitlab-ci-local's path
#
# gitlab-ci-local runs a .gitlab-ci.yml on this machine; jobs without an
# image run in its shell executor, so no Docker is needed. It copies the
# project into its build directory with rsync. 4.72.0 is the newest release
# that runs on Node 20.
#
# The cache is $SELF_HEAL_CACHE, else $HOME/.cache/self-heal. Progress goes
# to stderr; stdout carries only the path asked for.
set -euo pipefail

GCL_VERSION=4.72.0

cache=${SELF_HEAL_CACHE:-${HOME}/.cache/self-heal}

# rsync installs Debian's rsync with apt-get when it is not on PATH.
rsync_pkg() {
  command -v rsync >/dev/null && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "gitlab-tools: installing rsync with apt-get" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    rsync >&2
  command -v rsync >/dev/null || { echo "gitlab-tools: rsync is still missing" >&2; exit 1; }
}

# gcl installs gitlab-ci-local with npm into $cache/gitlab-ci-local/<version>
# and prints the path of its executable.
gcl() {
  local dir="$cache/gitlab-ci-local/$GCL_VERSION"
  local bin="$dir/node_modules/.bin/gitlab-ci-local"
  if [ ! -x "$bin" ]; then
    echo "gitlab-tools: installing gitlab-ci-local@$GCL_VERSION into $dir" >&2
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error \
      "gitlab-ci-local@$GCL_VERSION" >&2
  fi
  [ -x "$bin" ] || { echo "gitlab-tools: $bin is missing after install" >&2; exit 1; }
  echo "$bin"
}

case "${1:-}" in
  gitlab-ci-local) rsync_pkg && gcl ;;
  *) echo "usage: $0 gitlab-ci-local" >&2; exit 2 ;;
esac

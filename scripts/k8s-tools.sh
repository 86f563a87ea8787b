#!/usr/bin/env bash
# Builds and caches the binaries of the Kubernetes end-to-end tests: etcd,
# kube-apiserver and the helm CLI, all from the Go module proxy. Each binary
# lands in a cache directory keyed by its version, outside the repository,
# and is built only when it is missing.
#
#   scripts/k8s-tools.sh all         build whatever is missing (default)
#   scripts/k8s-tools.sh etcd        build etcd only
#   scripts/k8s-tools.sh apiserver   build kube-apiserver only
#   scripts/k8s-tools.sh helm        build helm only
#   scripts/k8s-tools.sh paths       print NAME=PATH for each binary
#
# The cache root is $SELF_HEAL_CACHE (default ~/.cache/self-heal). A cold
# kube-apiserver build takes minutes and about 3 GiB of memory; set
# K8S_TOOLS_PARALLEL=1 to build one package at a time when memory is tight.
set -euo pipefail

K8S_VERSION=v1.37.2
ETCD_VERSION=v3.6.4
HELM_VERSION=v4.3.2

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${SELF_HEAL_CACHE:-$HOME/.cache/self-heal}
ETCD_BIN=$CACHE/etcd-$ETCD_VERSION/etcd
APISERVER_BIN=$CACHE/k8s-$K8S_VERSION/kube-apiserver
HELM_BIN=$CACHE/helm-$HELM_VERSION/helm

die() { echo "k8s-tools.sh: $*" >&2; exit 1; }

# build_flags prints the go build flags shared by every build.
build_flags() {
  local p=${K8S_TOOLS_PARALLEL:-}
  printf -- '-trimpath'
  [ -n "$p" ] && printf -- ' -p %s' "$p"
  printf '\n'
}

# install_atomically moves a freshly built binary into place, so an
# interrupted build never leaves a half-written file under the final name.
install_atomically() {
  local tmp=$1 dest=$2
  chmod 0755 "$tmp"
  mv -f "$tmp" "$dest"
  echo "k8s-tools.sh: built $dest"
}

build_etcd() {
  [ -x "$ETCD_BIN" ] && return 0
  mkdir -p "$(dirname "$ETCD_BIN")"
  echo "k8s-tools.sh: building etcd $ETCD_VERSION"
  # shellcheck disable=SC2046
  (cd "$ROOT/e2e/cluster/etcd" &&
    go build $(build_flags) -ldflags '-s -w' -o "$ETCD_BIN.tmp" go.etcd.io/etcd/server/v3)
  install_atomically "$ETCD_BIN.tmp" "$ETCD_BIN"
}

build_apiserver() {
  [ -x "$APISERVER_BIN" ] && return 0
  mkdir -p "$(dirname "$APISERVER_BIN")"
  echo "k8s-tools.sh: building kube-apiserver $K8S_VERSION (a cold build takes minutes)"
  local v=${K8S_VERSION#v} pkg=k8s.io/component-base/version
  local major=${v%%.*} minor
  minor=${v#*.} && minor=${minor%%.*}
  local ldflags="-s -w -X $pkg.gitVersion=$K8S_VERSION"
  ldflags+=" -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  # shellcheck disable=SC2046
  (cd "$ROOT/e2e/cluster/apiserver" &&
    go build $(build_flags) -ldflags "$ldflags" -o "$APISERVER_BIN.tmp" \
      k8s.io/kubernetes/cmd/kube-apiserver)
  install_atomically "$APISERVER_BIN.tmp" "$APISERVER_BIN"
}

build_helm() {
  [ -x "$HELM_BIN" ] && return 0
  mkdir -p "$(dirname "$HELM_BIN")"
  echo "k8s-tools.sh: building helm $HELM_VERSION"
  local dir
  dir=$(mktemp -d)
  # shellcheck disable=SC2046
  GOBIN=$dir go install $(build_flags) \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
  install_atomically "$dir/helm" "$HELM_BIN"
  rmdir "$dir"
}

paths() {
  echo "ETCD=$ETCD_BIN"
  echo "KUBE_APISERVER=$APISERVER_BIN"
  echo "HELM=$HELM_BIN"
}

command -v go >/dev/null || die "go is not on PATH"
case "${1:-all}" in
  all) build_etcd; build_apiserver; build_helm ;;
  etcd) build_etcd ;;
  apiserver) build_apiserver ;;
  helm) build_helm ;;
  paths) paths ;;
  *) die "unknown command ${1} (all, etcd, apiserver, helm, paths)" ;;
esac

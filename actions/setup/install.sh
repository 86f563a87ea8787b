#!/usr/bin/env bash
# Installs the self-heal binary in a GitHub Actions job.
#
# It downloads the release asset for the action's ref and verifies it
# against the release's checksums.txt. When the ref has no release asset
# (a branch, a commit, `uses: ./`) and Go is on the PATH, it builds the
# binary from the action's own source instead. A checksum that does not
# match always fails: it never falls back to building.
#
# Reads:
#   SELF_HEAL_VERSION     release tag to install (v1, v1.2.3); default: the
#                         action's ref, taken from its checkout path
#                         (RUNNER_WORK/_actions/OWNER/REPO/REF)
#   SELF_HEAL_REPOSITORY  OWNER/REPO that publishes the releases; default:
#                         from the same path
#   GITHUB_SERVER_URL, RUNNER_TEMP, GITHUB_OUTPUT, GITHUB_PATH
#     https://docs.github.com/en/actions/reference/variables-reference
#
# Writes the binary's path to the step output `path` and puts its
# directory on the PATH of the job's later steps.
set -euo pipefail

source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
version=${SELF_HEAL_VERSION:-}
repository=${SELF_HEAL_REPOSITORY:-}

# The runner checks an action out under _actions/OWNER/REPO/REF.
case "$source_dir" in
  */_actions/*/*/*)
    repo_dir=$(dirname "$source_dir")
    owner_dir=$(dirname "$repo_dir")
    version=${version:-$(basename "$source_dir")}
    repository=${repository:-$(basename "$owner_dir")/$(basename "$repo_dir")}
    ;;
esac

os=$(uname -s | tr '[:upper:]' '[:lower:]')
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "::error title=self-heal::unsupported machine $(uname -m)"; exit 1 ;;
esac
case "$os" in
  linux | darwin) ;;
  *) echo "::error title=self-heal::unsupported system $os (Linux and macOS runners only)"; exit 1 ;;
esac

dest="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/self-heal-bin"
mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi
}

# download fetches and verifies the release asset. It returns 1 when the
# release has no such asset, and exits when the asset fails verification.
download() {
  local asset="self-heal_${os}_${arch}.tar.gz"
  local base="${GITHUB_SERVER_URL:-https://github.com}/$repository/releases/download/$version"
  echo "self-heal: downloading $base/$asset"
  curl -fsSL --retry 3 -o "$work/$asset" "$base/$asset" || return 1
  curl -fsSL --retry 3 -o "$work/checksums.txt" "$base/checksums.txt" || {
    echo "::error title=self-heal::release $version has $asset but no checksums.txt"
    exit 1
  }
  local want got
  want=$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1 }' "$work/checksums.txt")
  got=$(sha256 "$work/$asset" | awk '{ print $1 }')
  if [ -z "$want" ] || [ "$want" != "$got" ]; then
    echo "::error title=self-heal::checksum of $asset does not match checksums.txt (got $got, want ${want:-none})"
    exit 1
  fi
  echo "self-heal: sha256 $got verified"
  tar -xzf "$work/$asset" -C "$dest" self-heal
}

# build compiles the binary from the action's source. It builds the way a
# developer would (no -trimpath), so the Go build cache of the job's other
# builds of this module is reused.
build() {
  if ! command -v go >/dev/null; then
    echo "::error title=self-heal::no release asset for '${version:-this ref}' and Go is not installed to build one (add actions/setup-go, or use a released tag)"
    exit 1
  fi
  echo "self-heal: building from $source_dir with $(go version)"
  (cd "$source_dir" && go build -buildvcs=false \
    -ldflags "-s -w -X main.version=${version:-source}" -o "$dest/self-heal" .)
}

if [ -n "$version" ] && [ -n "$repository" ] && download; then
  :
else
  build
fi

chmod +x "$dest/self-heal"
"$dest/self-heal" --version
echo "path=$dest/self-heal" >>"${GITHUB_OUTPUT:-/dev/null}"
echo "$dest" >>"${GITHUB_PATH:-/dev/null}"

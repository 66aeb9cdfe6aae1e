#!/usr/bin/env bash
# Build the control-plane binaries the integration tests run (etcd, kube-apiserver,
# kube-controller-manager, kubectl) from the Go module proxy, and cache them outside
# the repo keyed by version. A no-op when every binary is already cached.
#
#   test/cluster/build.sh            # build what is missing, print the cache dirs
#   TRIBUTARY_CACHE_DIR=/x build.sh  # cache root (default ~/.cache/tributary)
#
# Layout:  $CACHE_ROOT/k8s-v1.34.4/{kube-apiserver,kube-controller-manager,kubectl}
#          $CACHE_ROOT/etcd-v3.6.16/etcd
# See test/cluster/README.md for timings and the flags that start a cluster.
set -euo pipefail

# ---- versions: versions.env beside this script (also read by binaries.ts) ----
# Fixed build date (the k8s.io/kubernetes v1.34.4 tag time) for reproducible binaries.
BUILD_DATE=2026-02-10T12:53:36Z

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$SCRIPT_DIR/versions.env"
K8S_MAJOR="${K8S_VERSION#v}"; K8S_MAJOR="${K8S_MAJOR%%.*}"   # v1.34.4 -> 1
K8S_MINOR="${K8S_VERSION#v*.}"; K8S_MINOR="${K8S_MINOR%%.*}" # v1.34.4 -> 34
CACHE_ROOT="${TRIBUTARY_CACHE_DIR:-$HOME/.cache/tributary}"
K8S_DIR="$CACHE_ROOT/k8s-$K8S_VERSION"
ETCD_DIR="$CACHE_ROOT/etcd-$ETCD_VERSION"
K8S_BINS=(kube-apiserver kube-controller-manager kubectl)

all_present() {
  local b
  for b in "${K8S_BINS[@]}"; do [[ -x "$K8S_DIR/$b" ]] || return 1; done
  [[ -x "$ETCD_DIR/etcd" ]]
}

report() {
  echo "k8s:  $K8S_DIR"
  echo "etcd: $ETCD_DIR"
  echo "cache dir: $CACHE_ROOT"
}

if all_present; then
  echo "cached: $K8S_DIR $ETCD_DIR"
  report
  exit 0
fi

command -v go >/dev/null || { echo "build.sh: go is not on PATH" >&2; exit 1; }
# The cache is keyed by the versions above; refuse to build if go.mod says otherwise.
grep -qE "^\s*(require )?k8s.io/kubernetes $K8S_VERSION\b" "$SCRIPT_DIR/kube/go.mod" ||
  { echo "build.sh: kube/go.mod does not require k8s.io/kubernetes $K8S_VERSION" >&2; exit 1; }
grep -qE "^\s*(require )?go.etcd.io/etcd/server/v3 $ETCD_VERSION\b" "$SCRIPT_DIR/etcd/go.mod" ||
  { echo "build.sh: etcd/go.mod does not require go.etcd.io/etcd/server/v3 $ETCD_VERSION" >&2; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0
# At most 2 parallel compile jobs (the machines have 2 cores).
GO_P="${TRIBUTARY_GO_P:-2}"

mkdir -p "$K8S_DIR" "$ETCD_DIR"

# Serialize concurrent callers (e.g. parallel test workers): the second waits,
# then finds the binaries cached.
if command -v flock >/dev/null; then
  exec 9>"$CACHE_ROOT/.build.lock"
  flock 9
  # Holding the lock: temp dirs left by an interrupted (killed) run are stale.
  rm -rf -- "$K8S_DIR"/.build-* "$ETCD_DIR"/.build-*
  if all_present; then
    echo "cached: $K8S_DIR $ETCD_DIR (built by a concurrent run)"
    report
    exit 0
  fi
fi

TMP_DIRS=()
cleanup() { local d; for d in "${TMP_DIRS[@]+"${TMP_DIRS[@]}"}"; do rm -rf -- "$d"; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# build_one MODULE_DIR TARGET_DIR NAME PACKAGE LDFLAGS
# Builds into a temp dir inside TARGET_DIR (same filesystem) and renames the
# finished binary into place, so an interrupted build never leaves a partial binary.
build_one() {
  local moddir="$1" target="$2" name="$3" pkg="$4" ldflags="$5"
  if [[ -x "$target/$name" ]]; then
    echo "cached: $target/$name"
    return 0
  fi
  local tmp start end
  tmp="$(mktemp -d "$target/.build-$name.XXXXXX")"
  TMP_DIRS+=("$tmp")
  echo "building $name ($pkg) ..."
  start=$SECONDS
  # go.sum is committed, so the default -mod=readonly downloads any missing
  # module from the proxy and fails loudly if go.mod would need changes.
  (cd "$moddir" && go build -p "$GO_P" -trimpath -ldflags "$ldflags" -o "$tmp/$name" "$pkg")
  mv -f -- "$tmp/$name" "$target/$name"
  rm -rf -- "$tmp"
  end=$SECONDS
  echo "built $name in $((end - start))s -> $target/$name"
}

kv() { echo "-X k8s.io/$1/version.$2=$3"; }
K8S_LDFLAGS="-s -w"
for p in component-base client-go/pkg; do
  K8S_LDFLAGS+=" $(kv "$p" gitVersion "$K8S_VERSION")"
  K8S_LDFLAGS+=" $(kv "$p" gitMajor "$K8S_MAJOR")"
  K8S_LDFLAGS+=" $(kv "$p" gitMinor "$K8S_MINOR")"
  K8S_LDFLAGS+=" $(kv "$p" gitTreeState clean)"
  K8S_LDFLAGS+=" $(kv "$p" buildDate "$BUILD_DATE")"
  K8S_LDFLAGS+=" $(kv "$p" gitCommit "")"
done
# etcd's Version is a constant; only GitSHA is meant to be set at build time.
ETCD_LDFLAGS="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION-gomod"

total_start=$SECONDS
build_one "$SCRIPT_DIR/etcd" "$ETCD_DIR" etcd go.etcd.io/etcd/server/v3 "$ETCD_LDFLAGS"
for b in "${K8S_BINS[@]}"; do
  build_one "$SCRIPT_DIR/kube" "$K8S_DIR" "$b" "k8s.io/kubernetes/cmd/$b" "$K8S_LDFLAGS"
done
echo "total build time: $((SECONDS - total_start))s"
report

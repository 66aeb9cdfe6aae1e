#!/usr/bin/env bash
# Build the control-plane binaries the integration tests run (etcd, kube-apiserver,
# kube-controller-manager, kubectl) from the Go module proxy, and cache them outside
# the repo keyed by version. A no-op when every binary is already cached.
#
#   dev/cluster/build.sh            # build what is missing, print the cache dirs
#   TRIBUTARY_CACHE_DIR=/x build.sh  # cache root (default ~/.cache/tributary)
#
# Layout:  $CACHE_ROOT/k8s-v1.34.4/{kube-apiserver,kube-controller-manager,kubectl}
#          $CACHE_ROOT/etcd-v3.6.16/etcd
# See dev/cluster/README.md for timings and the flags that start a cluster.
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

# shellcheck source=go-build.sh
source "$SCRIPT_DIR/go-build.sh"
# The cache is keyed by the versions above; refuse to build if go.mod says otherwise.
require_version "$SCRIPT_DIR/kube" k8s.io/kubernetes "$K8S_VERSION"
require_version "$SCRIPT_DIR/etcd" go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
take_build_lock "$K8S_DIR" "$ETCD_DIR"

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

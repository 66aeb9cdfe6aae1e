#!/usr/bin/env bash
# Build the control-plane binaries the integration tests run (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl), and kwok with its stage file (dev/kwok/), from
# the Go module proxy, and cache them outside the repo keyed by version. A no-op when every binary
# is already cached.
#
#   dev/cluster/build.sh            # build what is missing, print the cache dirs
#   TRIBUTARY_CACHE_DIR=/x build.sh  # cache root (default ~/.cache/tributary)
#
# Layout:  $CACHE_ROOT/k8s-v1.34.4/{kube-apiserver,kube-controller-manager,kube-scheduler,kubectl}
#          $CACHE_ROOT/etcd-v3.6.16/etcd
#          $CACHE_ROOT/kwok-v0.8.0/{kwok,stages-<hash>.yaml}  (hash: dev/kwok/stages.txt)
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
# kwok's module, version and stage list live in dev/kwok/ (like dev/toxiproxy/).
KWOK_SRC="$SCRIPT_DIR/../kwok"
# shellcheck source=../kwok/versions.env
source "$KWOK_SRC/versions.env"
CACHE_ROOT="${TRIBUTARY_CACHE_DIR:-$HOME/.cache/tributary}"
K8S_DIR="$CACHE_ROOT/k8s-$K8S_VERSION"
ETCD_DIR="$CACHE_ROOT/etcd-$ETCD_VERSION"
KWOK_DIR="$CACHE_ROOT/kwok-$KWOK_VERSION"
# The stage file is keyed by the stage list too: the first 12 hex digits of sha256(stages.txt), as
# binaries.ts computes it.
KWOK_STAGES="$KWOK_DIR/stages-$(sha256sum <"$KWOK_SRC/stages.txt" | cut -c1-12).yaml"
K8S_BINS=(kube-apiserver kube-controller-manager kube-scheduler kubectl)

all_present() {
  local b
  for b in "${K8S_BINS[@]}"; do [[ -x "$K8S_DIR/$b" ]] || return 1; done
  [[ -x "$ETCD_DIR/etcd" && -x "$KWOK_DIR/kwok" && -f "$KWOK_STAGES" ]]
}

report() {
  echo "k8s:  $K8S_DIR"
  echo "etcd: $ETCD_DIR"
  echo "kwok: $KWOK_DIR"
  echo "cache dir: $CACHE_ROOT"
}

if all_present; then
  echo "cached: $K8S_DIR $ETCD_DIR $KWOK_DIR"
  report
  exit 0
fi

# shellcheck source=go-build.sh
source "$SCRIPT_DIR/go-build.sh"
# The cache is keyed by the versions above; refuse to build if go.mod says otherwise.
require_version "$SCRIPT_DIR/kube" k8s.io/kubernetes "$K8S_VERSION"
require_version "$SCRIPT_DIR/etcd" go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
require_version "$KWOK_SRC" sigs.k8s.io/kwok "$KWOK_VERSION"
take_build_lock "$K8S_DIR" "$ETCD_DIR" "$KWOK_DIR"

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
# kwok: its release script's ldflags (hack/releases.sh sets the version from the tag).
KWOK_LDFLAGS="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION"

# The stage file: the stages listed in dev/kwok/stages.txt, verbatim from the kwok module's own
# kustomize/stage/ definitions, as one multi-document kwok config. Written to a temp file and
# renamed, like the binaries.
assemble_kwok_stages() {
  if [[ -f "$KWOK_STAGES" ]]; then
    echo "cached: $KWOK_STAGES"
    return 0
  fi
  local moddir tmp rel
  moddir="$(cd "$KWOK_SRC" && go mod download sigs.k8s.io/kwok &&
    go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
  tmp="$(mktemp "$KWOK_DIR/.build-stages.XXXXXX")"
  TMP_DIRS+=("$tmp")
  {
    echo "# kwok $KWOK_VERSION stages from dev/kwok/stages.txt, assembled by dev/cluster/build.sh"
    while read -r rel; do
      [[ -z "$rel" || "$rel" == \#* ]] && continue
      [[ -f "$moddir/kustomize/stage/$rel" ]] ||
        { echo "build.sh: no stage $rel in sigs.k8s.io/kwok@$KWOK_VERSION" >&2; exit 1; }
      printf -- '---\n# sigs.k8s.io/kwok@%s kustomize/stage/%s\n' "$KWOK_VERSION" "$rel"
      cat "$moddir/kustomize/stage/$rel"
    done <"$KWOK_SRC/stages.txt"
  } >"$tmp"
  chmod 644 "$tmp"
  mv -f -- "$tmp" "$KWOK_STAGES"
  echo "assembled $KWOK_STAGES"
}

total_start=$SECONDS
build_one "$SCRIPT_DIR/etcd" "$ETCD_DIR" etcd go.etcd.io/etcd/server/v3 "$ETCD_LDFLAGS"
for b in "${K8S_BINS[@]}"; do
  build_one "$SCRIPT_DIR/kube" "$K8S_DIR" "$b" "k8s.io/kubernetes/cmd/$b" "$K8S_LDFLAGS"
done
build_one "$KWOK_SRC" "$KWOK_DIR" kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_LDFLAGS"
assemble_kwok_stages
echo "total build time: $((SECONDS - total_start))s"
report

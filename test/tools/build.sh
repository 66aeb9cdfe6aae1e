#!/usr/bin/env bash
# Build the packaging tools the tests run (helm, promtool and our kstatus checker), nats-server
# (the JetStream inbox engine's broker, dev/nats/) and toxiproxy-server (the chaos tier's TCP
# fault proxy, dev/toxiproxy/) from the Go module proxy, and cache them outside
# the repo keyed by version. A no-op when every binary is
# already cached. lua5.1 (the Argo CD health checks) is a Debian package: scripts/setup.sh.
#
#   test/tools/build.sh            # build what is missing, print the cache dirs
#   TRIBUTARY_CACHE_DIR=/x build.sh  # cache root (default ~/.cache/tributary)
#
# Layout:  $CACHE_ROOT/helm-v3.22.0/helm
#          $CACHE_ROOT/promtool-v0.316.0/promtool
#          $CACHE_ROOT/kstatus-v0.37.2-<hash>/kstatus   (hash: our source, see kstatus_key)
#          $CACHE_ROOT/nats-server-v2.15.2/nats-server  (version: dev/nats/versions.env)
#          $CACHE_ROOT/toxiproxy-v2.5.0/toxiproxy-server (version: dev/toxiproxy/versions.env)
# See test/tools/README.md for what each is for and the timings.
set -euo pipefail

# ---- versions: versions.env beside this script (also read by tools.ts) ----
SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$SCRIPT_DIR/versions.env"
# nats-server is also started by dev/ (bench, e2e), so its module and version live there.
NATS_DIR_SRC="$SCRIPT_DIR/../../dev/nats"
# shellcheck source=../../dev/nats/versions.env
source "$NATS_DIR_SRC/versions.env"
# toxiproxy-server is started by dev/toxiproxy/server.ts, so its module and version live there too.
TOXIPROXY_DIR_SRC="$SCRIPT_DIR/../../dev/toxiproxy"
# shellcheck source=../../dev/toxiproxy/versions.env
source "$TOXIPROXY_DIR_SRC/versions.env"
CACHE_ROOT="${TRIBUTARY_CACHE_DIR:-$HOME/.cache/tributary}"

# kstatus is our own program, so its cache key also covers its source: the first 12 hex digits
# of sha256(go.mod + go.sum + main.go). tools.ts computes the same key.
kstatus_key() {
  cat "$SCRIPT_DIR/kstatus/go.mod" "$SCRIPT_DIR/kstatus/go.sum" "$SCRIPT_DIR/kstatus/main.go" |
    sha256sum | cut -c1-12
}
HELM_DIR="$CACHE_ROOT/helm-$HELM_VERSION"
PROMTOOL_DIR="$CACHE_ROOT/promtool-$PROMETHEUS_VERSION"
KSTATUS_DIR="$CACHE_ROOT/kstatus-$CLI_UTILS_VERSION-$(kstatus_key)"
NATS_DIR="$CACHE_ROOT/nats-server-$NATS_SERVER_VERSION"
TOXIPROXY_DIR="$CACHE_ROOT/toxiproxy-$TOXIPROXY_VERSION"

all_present() {
  [[ -x "$HELM_DIR/helm" && -x "$PROMTOOL_DIR/promtool" && -x "$KSTATUS_DIR/kstatus" &&
    -x "$NATS_DIR/nats-server" && -x "$TOXIPROXY_DIR/toxiproxy-server" ]]
}

report() {
  echo "helm:     $HELM_DIR"
  echo "promtool: $PROMTOOL_DIR"
  echo "kstatus:  $KSTATUS_DIR"
  echo "nats-server: $NATS_DIR"
  echo "toxiproxy-server: $TOXIPROXY_DIR"
  echo "cache dir: $CACHE_ROOT"
}

if all_present; then
  echo "cached: $HELM_DIR $PROMTOOL_DIR $KSTATUS_DIR $NATS_DIR $TOXIPROXY_DIR"
  report
  exit 0
fi

# shellcheck source=../../dev/cluster/go-build.sh
source "$SCRIPT_DIR/../../dev/cluster/go-build.sh"
# The cache is keyed by the versions above; refuse to build if a go.mod says otherwise.
require_version "$SCRIPT_DIR/helm" helm.sh/helm/v3 "$HELM_VERSION"
require_version "$SCRIPT_DIR/prometheus" github.com/prometheus/prometheus "$PROMETHEUS_VERSION"
require_version "$SCRIPT_DIR/kstatus" sigs.k8s.io/cli-utils "$CLI_UTILS_VERSION"
require_version "$NATS_DIR_SRC" github.com/nats-io/nats-server/v2 "$NATS_SERVER_VERSION"
require_version "$TOXIPROXY_DIR_SRC" github.com/Shopify/toxiproxy/v2 "$TOXIPROXY_VERSION"
take_build_lock "$HELM_DIR" "$PROMTOOL_DIR" "$KSTATUS_DIR" "$NATS_DIR" "$TOXIPROXY_DIR"

# helm: its Makefile's ldflags. The Kubernetes version helm assumes offline (`helm template`'s
# .Capabilities.KubeVersion, the lint deprecation checks) follows its client-go: v0.37 -> 1.37.
HELM_K8S_MINOR="$(sed -nE 's/^\s*k8s.io\/client-go v0\.([0-9]+)\..*/\1/p' \
  "$SCRIPT_DIR/helm/go.mod")"
[[ -n "$HELM_K8S_MINOR" ]] || { echo "build.sh: no k8s.io/client-go in helm/go.mod" >&2; exit 1; }
HELM_LDFLAGS="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
HELM_LDFLAGS+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for p in lint/rules chartutil; do
  HELM_LDFLAGS+=" -X helm.sh/helm/v3/pkg/$p.k8sVersionMajor=1"
  HELM_LDFLAGS+=" -X helm.sh/helm/v3/pkg/$p.k8sVersionMinor=$HELM_K8S_MINOR"
done

# promtool: the version Prometheus' .promu.yml sets (v0.316.0 -> 3.16.0), dated by the tag.
PROM_MINOR="${PROMETHEUS_VERSION#v0.}"; PROM_MINOR="${PROM_MINOR%%.*}" # v0.316.0 -> 316
PROM_SEMVER="$((PROM_MINOR / 100)).$((PROM_MINOR % 100)).${PROMETHEUS_VERSION##*.}"
PROM_DATE="$(cd "$SCRIPT_DIR/prometheus" &&
  go list -m -f '{{.Time.Format "20060102-15:04:05"}}' github.com/prometheus/prometheus)"
pv() { echo "-X github.com/prometheus/common/version.$1=$2"; }
PROMTOOL_LDFLAGS="-s -w $(pv Version "$PROM_SEMVER") $(pv Branch "HEAD")"
PROMTOOL_LDFLAGS+=" $(pv BuildUser gomod) $(pv BuildDate "$PROM_DATE")"
# The release builds with netgo,builtinassets (the latter only affects the server). We also drop
# the service-discovery plugins but Kubernetes': rule checks and rule unit tests never use them,
# and without the cloud SDKs the cold build takes ~4 instead of ~10 minutes on 2 cores (README).
PROMTOOL_TAGS="netgo,remove_all_sd,enable_kubernetes_sd"

total_start=$SECONDS
build_one "$SCRIPT_DIR/kstatus" "$KSTATUS_DIR" kstatus . "-s -w"
# nats-server: the release's ldflags set only the commit (the proxy does not give it); the
# version is a constant in its source, so `nats-server --version` prints v2.15.2 as is.
build_one "$NATS_DIR_SRC" "$NATS_DIR" nats-server github.com/nats-io/nats-server/v2 "-s -w"
# toxiproxy-server: its Makefile builds with "-s -w"; the release (goreleaser) also sets the
# version variable, which the proxy cannot give, so we set it from the cache key.
build_one "$TOXIPROXY_DIR_SRC" "$TOXIPROXY_DIR" toxiproxy-server \
  github.com/Shopify/toxiproxy/v2/cmd/server \
  "-s -w -X github.com/Shopify/toxiproxy/v2.Version=$TOXIPROXY_VERSION"
build_one "$SCRIPT_DIR/helm" "$HELM_DIR" helm helm.sh/helm/v3/cmd/helm "$HELM_LDFLAGS"
build_one "$SCRIPT_DIR/prometheus" "$PROMTOOL_DIR" promtool \
  github.com/prometheus/prometheus/cmd/promtool "$PROMTOOL_LDFLAGS" "$PROMTOOL_TAGS"
echo "total build time: $((SECONDS - total_start))s"
report

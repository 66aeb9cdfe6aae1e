#!/usr/bin/env bash
# Everything the demo and the tests need besides npm packages, cached outside the repo:
#   - the control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl)
#     and kwok with its stage file, from the Go proxy
#   - the packaging tools (helm, promtool, the kstatus checker) from the Go proxy
#   - Debian's lua5.1, the interpreter that runs the Argo CD health checks in the tests
# A no-op when everything is present. `npm run setup`; `npm run demo` and `npm test` call it.
set -euo pipefail
ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"

if ! command -v lua5.1 >/dev/null; then
  echo "installing Debian package lua5.1 ..."
  SUDO=()
  if [[ "$(id -u)" -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: lua5.1 is missing; install it (apt-get install lua5.1) or run as root" >&2; exit 1; }
    SUDO=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get install -y --no-install-recommends lua5.1 ||
    { "${SUDO[@]}" apt-get update && "${SUDO[@]}" apt-get install -y --no-install-recommends lua5.1; }
fi

bash "$ROOT/dev/cluster/build.sh"
bash "$ROOT/test/tools/build.sh"

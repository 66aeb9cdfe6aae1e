# Sourced by dev/cluster/build.sh and test/tools/build.sh: what every Go-built, cached binary
# shares. The caller sets CACHE_ROOT and defines all_present and report.
#
#   require_version MODULE_DIR MODULE VERSION   refuse to build when go.mod disagrees with the cache key
#   take_build_lock DIR...                       serialize callers; exits 0 if all_present meanwhile
#   build_one MODULE_DIR TARGET_DIR NAME PACKAGE LDFLAGS [TAGS]

export GOTOOLCHAIN=local CGO_ENABLED=0
# At most 2 parallel compile jobs (the machines have 2 cores).
GO_P="${TRIBUTARY_GO_P:-2}"

command -v go >/dev/null || { echo "build.sh: go is not on PATH" >&2; exit 1; }

require_version() {
  grep -qE "^\s*(require )?$2 $3\b" "$1/go.mod" ||
    { echo "build.sh: $1/go.mod does not require $2 $3" >&2; exit 1; }
}

# One lock for every build under CACHE_ROOT, so two builds never compile at once on 2 cores; the
# second caller waits, then finds the binaries cached.
take_build_lock() {
  mkdir -p "$@"
  command -v flock >/dev/null || return 0
  exec 9>"$CACHE_ROOT/.build.lock"
  flock 9
  # Holding the lock: temp dirs left by an interrupted (killed) run are stale.
  local dir
  for dir in "$@"; do rm -rf -- "$dir"/.build-*; done
  if all_present; then
    echo "cached (built by a concurrent run)"
    report
    exit 0
  fi
}

TMP_DIRS=()
cleanup() { local d; for d in "${TMP_DIRS[@]+"${TMP_DIRS[@]}"}"; do rm -rf -- "$d"; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# Builds into a temp dir inside TARGET_DIR (same filesystem) and renames the finished binary into
# place, so an interrupted build never leaves a partial binary.
build_one() {
  local moddir="$1" target="$2" name="$3" pkg="$4" ldflags="$5" tags="${6:-}"
  if [[ -x "$target/$name" ]]; then
    echo "cached: $target/$name"
    return 0
  fi
  local tmp start
  tmp="$(mktemp -d "$target/.build-$name.XXXXXX")"
  TMP_DIRS+=("$tmp")
  echo "building $name ($pkg) ..."
  start=$SECONDS
  # go.sum is committed, so the default -mod=readonly downloads any missing module from the
  # proxy and fails loudly if go.mod would need changes.
  (cd "$moddir" && go build -p "$GO_P" -trimpath -buildvcs=false -tags "$tags" \
    -ldflags "$ldflags" -o "$tmp/$name" "$pkg")
  mv -f -- "$tmp/$name" "$target/$name"
  rm -rf -- "$tmp"
  echo "built $name in $((SECONDS - start))s -> $target/$name"
}

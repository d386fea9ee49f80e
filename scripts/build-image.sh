#!/usr/bin/env bash
# Builds the operator's images from the Dockerfile without a container registry (buildah, chroot
# isolation, a store of its own under the cache) and keeps each as a docker-archive that
# `ctr images import` (tests/harness/node.sh import) takes:
#
#   scripts/build-image.sh [production|softhsm]...   # default: both
#     production  the Dockerfile as it is: no software HSM (the vendor's module is mounted in)
#     softhsm     the test image: --build-arg INSTALL_SOFTHSM2=true
#
# Prints, for callers to eval: BYOK_OPERATOR_IMAGE and BYOK_OPERATOR_ARCHIVE (production),
# BYOK_OPERATOR_TEST_IMAGE and BYOK_OPERATOR_TEST_ARCHIVE (softhsm), for the kinds asked for.
#
# The build context is the tree's tracked files (git ls-files) as they are in the work tree,
# copied to a scratch folder: nothing untracked (build folders, keys, editor files) can reach a
# layer. The context's hash (a tar of it with fixed order, owners and times, and the base's
# archive name) names the archives and tags. An unchanged tree finds its archives and costs
# nothing; a changed tree rebuilds. The two kinds share the build stage (the build argument only
# touches the runtime stage), so the second costs a runtime stage only; --layers reuses the build
# stage's apt layer (the build stack from the Debian mirror) while scripts/deps/apt-packages.txt
# and the base stay the same.
#
# The Debian base comes from scripts/build-node-images.sh (debootstrap from this machine's mirror,
# tagged as the Dockerfile's FROM); --pull=never, so no registry is asked. Inside the build the
# Dockerfile's RUN apt-get reaches the Debian mirror the base's sources name.
#
# Disk: after a build, what an older tree left is removed: its images, archives and every untagged
# layer. Kept under tags of their own
# (localhost/byok-operator-cache): the build stage's apt layer, and the current tree's compiled
# build stage (so the other kind does not compile again). The store (~/.cache/byok-operator/
# buildah/overlay) is this script's: run image builds through it (one lock), not beside it.
# Needs root, buildah, git. Timings on 2 shared cores: README, "The operator's image".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="${BYOK_CACHE:-$HOME/.cache/byok-operator}"
IMAGES="$CACHE/images"
# overlay, not vfs: vfs stores every layer as a full copy of the root file system (1.6 GB for
# each of the build stage's layers; one COPY --from took minutes to mount); overlay stores the
# differences only. BYOK_BUILDAH_DRIVER=vfs for a machine without overlayfs.
DRIVER=${BYOK_BUILDAH_DRIVER:-overlay}
STORE_ROOT="$CACHE/buildah/$DRIVER"
RUNROOT=/run/byok-buildah-$DRIVER
NAME=localhost/byok-operator
CACHE_NAME=localhost/byok-operator-cache

kinds=()
for a in "$@"; do
  case "$a" in
    production | softhsm) kinds+=("$a") ;;
    *) echo "usage: $0 [production|softhsm]..." >&2; exit 2 ;;
  esac
done
((${#kinds[@]})) || kinds=(production softhsm)

log() { printf '[image] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
bh() { buildah --root "$STORE_ROOT" --runroot "$RUNROOT" --storage-driver "$DRIVER" "$@"; }

command -v buildah >/dev/null || die "buildah missing (scripts/install-deps.sh installs it)"
git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1 || die "$ROOT is not a git checkout: the context is its tracked files"

bases=$("$ROOT/scripts/build-node-images.sh") || die "scripts/build-node-images.sh failed"
eval "$bases"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Tracked files that exist in the work tree (a deleted one is not in the context).
(cd "$ROOT" && git ls-files -z | while IFS= read -r -d '' f; do
  if [[ -e "$f" || -L "$f" ]]; then printf '%s\0' "$f"; fi
done) >"$work/files"
mkdir "$work/context"
tar -C "$ROOT" --null -T "$work/files" -cf - | tar -C "$work/context" -xf -
HASH=$({
  tar -C "$work/context" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - .
  printf 'base=%s\n' "$(basename "$BYOK_BASE_ARCHIVE")"
} | sha256sum | cut -c1-12)
mkdir -p "$IMAGES" "$STORE_ROOT"

archive_of() { printf '%s/byok-operator-%s-%s.tar' "$IMAGES" "$1" "$HASH"; }

# Tags the newest untagged image whose last history entry ran a command containing PART. (An
# untagged image whose child added no layer, as WORKDIR's, counts as dangling: rmi --prune would
# take it, and with it the cache entry, though its layer stays.)
tag_layer() {
  local part=$1 tag=$2 id
  for id in $(bh images --all --noheading --format '{{.ID}} {{.Name}}' | awk '$2 == "<none>" || $2 == "" {print $1}'); do
    if bh inspect --type image --format '{{range .History}}{{.CreatedBy}}{{"\n"}}{{end}}' "$id" 2>/dev/null |
      tail -n 1 | grep -qF -- "$part"; then
      bh tag "$id" "$tag" >/dev/null
      return 0
    fi
  done
  return 0
}

build() {  # KIND
  local kind=$1 t0=$SECONDS softhsm=false archive tag
  [[ $kind == softhsm ]] && softhsm=true
  archive=$(archive_of "$kind")
  tag=$NAME:$kind-$HASH
  if ! bh inspect --type image "$BYOK_BASE_IMAGE" >/dev/null 2>&1; then
    bh pull --quiet "docker-archive:$BYOK_BASE_ARCHIVE" >/dev/null || die "loading the base $BYOK_BASE_ARCHIVE failed"
  fi
  local blog=$IMAGES/byok-operator-$kind-$HASH.log
  # A build that was killed leaves its working container (and its layer) behind.
  bh rm --all >/dev/null 2>&1 || true
  log "building $tag (log: $blog)"
  if ! bh bud --pull=never --isolation chroot --layers --build-arg "INSTALL_SOFTHSM2=$softhsm" \
    -f "$work/context/Dockerfile" -t "$tag" "$work/context" >"$blog" 2>&1; then
    tail -n 30 "$blog" >&2
    die "the image build failed"
  fi
  log "$tag built in $((SECONDS - t0)) s; writing $archive"
  rm -f "$archive.tmp"
  bh push --quiet "$tag" "docker-archive:$archive.tmp:$tag" >/dev/null || die "buildah push failed"
  mv "$archive.tmp" "$archive"
  tag_layer "apt-packages.txt | xargs apt-get install" "$CACHE_NAME:build-deps"
  tag_layer "cmake --build /build --target" "$CACHE_NAME:tree-$HASH"
  log "$tag ready in $((SECONDS - t0)) s"
}

# What older trees left: their images, archives and logs; then the untagged layers (each pass
# removes the leaves, the next their parents).
clean_up() {
  local old f
  for old in $(bh images --noheading --format '{{.Name}}:{{.Tag}}' 2>/dev/null |
    grep -E "^($NAME:(production|softhsm)|$CACHE_NAME:tree)-" || true); do
    [[ "$old" == *"-$HASH" ]] || bh rmi "$old" >/dev/null 2>&1 || true
  done
  for f in "$IMAGES"/byok-operator-*; do
    [[ -e "$f" && "$f" != *"-$HASH".tar && "$f" != *"-$HASH".log ]] && rm -f "$f"
  done
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    [[ -n "$(bh images --all --noheading --filter dangling=true --format '{{.ID}}' 2>/dev/null)" ]] || break
    bh rmi --prune >/dev/null 2>&1 || break
  done
}

(
  flock 9
  built=0
  for kind in "${kinds[@]}"; do
    if [[ ! -s "$(archive_of "$kind")" ]]; then build "$kind"; built=1; fi
  done
  if ((built)); then clean_up; fi
) 9>"$IMAGES/.byok-operator.lock"
for kind in "${kinds[@]}"; do
  a=$(archive_of "$kind")
  [[ -s "$a" ]] || die "no archive $a after the build"
  case $kind in
    production) echo "export BYOK_OPERATOR_IMAGE='$NAME:$kind-$HASH' BYOK_OPERATOR_ARCHIVE='$a'" ;;
    softhsm) echo "export BYOK_OPERATOR_TEST_IMAGE='$NAME:$kind-$HASH' BYOK_OPERATOR_TEST_ARCHIVE='$a'" ;;
  esac
done

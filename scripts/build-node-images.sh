#!/usr/bin/env bash
# Builds the two images the test node runs, without a container registry, as archives that
# `ctr images import` takes, cached under ~/.cache/byok-operator/images/:
#   pause  the pod sandbox: tests/harness/node/pause.c built static (gcc -static), the image's
#          only file; the kubelet's sandbox image (containerd's sandbox_image)
#   base   a minimal Debian bookworm (debootstrap --variant=minbase from the machine's own Debian
#          mirror, about 1 min), tagged as the base the Dockerfile names, so test pods and later
#          the operator's image build find it under that name
# A second run finds the archives and costs nothing; a changed pause.c or packer makes a new one.
# Parallel-safe (one lock; archives appear whole). Prints, for callers to eval:
#   BYOK_PAUSE_IMAGE, BYOK_PAUSE_ARCHIVE, BYOK_BASE_IMAGE, BYOK_BASE_ARCHIVE
# Needs root (debootstrap), gcc with static glibc, python3, GNU tar.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="${BYOK_CACHE:-$HOME/.cache/byok-operator}"
IMAGES="$CACHE/images"
HERE="$ROOT/tests/harness/node"
SUITE=bookworm
# The Dockerfile's base (FROM ... AS build / runtime): the name the image build will ask for.
BASE_IMAGE=$(awk '/^FROM /{print $2; exit}' "$ROOT/Dockerfile")
PAUSE_IMAGE=localhost/byok-test/pause:1

log() { printf '[node-images] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

key() { cat "$@" | sha256sum | cut -c1-12; }
PAUSE_ARCHIVE="$IMAGES/pause-$(key "$HERE/pause.c" "$HERE/docker_archive.py").tar"
BASE_ARCHIVE="$IMAGES/base-$SUITE-minbase-$(printf '%s' "$BASE_IMAGE" | key - "$HERE/docker_archive.py").tar"

# The Debian mirror this machine's apt uses (deb822 or one-line sources), unless
# BYOK_DEBIAN_MIRROR says otherwise: the test image comes from where the machine's packages do.
debian_mirror() {
  if [[ -n "${BYOK_DEBIAN_MIRROR:-}" ]]; then echo "$BYOK_DEBIAN_MIRROR"; return; fi
  local f
  for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r "$f" ]] || continue
    awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}
         /^deb / && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' "$f"
  done | head -n 1
}

build_pause() {
  local work; work=$(mktemp -d)
  log "building the pause image"
  gcc -static -O2 -s -o "$work/pause" "$HERE/pause.c" || { rm -rf "$work"; die "gcc -static failed (Debian: libc6-dev)"; }
  tar --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$work" -cf "$work/layer.tar" pause
  python3 "$HERE/docker_archive.py" --tag "$PAUSE_IMAGE" --layer "$work/layer.tar" \
    --out "$PAUSE_ARCHIVE" --cmd /pause --env PATH=/
  rm -rf "$work"
}

build_base() {
  local mirror work; mirror=$(debian_mirror)
  [[ -n "$mirror" ]] || die "no Debian mirror found in /etc/apt/sources*; set BYOK_DEBIAN_MIRROR"
  command -v debootstrap >/dev/null || die "debootstrap missing (scripts/install-deps.sh installs it)"
  work=$(mktemp -d)
  log "debootstrap --variant=minbase $SUITE (about 1 min)"
  if ! debootstrap --variant=minbase "$SUITE" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 20 "$work/debootstrap.log" >&2
    umount -R "$work/rootfs/proc" "$work/rootfs/sys" 2>/dev/null || true
    rm -rf "$work"
    die "debootstrap failed"
  fi
  # What an image does not carry: downloaded packages and indexes, device nodes (the runtime
  # provides /dev).
  rm -rf "$work/rootfs"/var/cache/apt/archives/*.deb "$work/rootfs"/var/lib/apt/lists/* \
    "$work/rootfs"/dev/* "$work/rootfs"/var/log/*.log
  tar --numeric-owner --xattrs --sort=name -C "$work/rootfs" -cf "$work/layer.tar" .
  python3 "$HERE/docker_archive.py" --tag "$BASE_IMAGE" --layer "$work/layer.tar" \
    --out "$BASE_ARCHIVE" --cmd bash
  rm -rf "$work"
}

mkdir -p "$IMAGES"
(
  flock 9
  [[ -s "$PAUSE_ARCHIVE" ]] || build_pause
  [[ -s "$BASE_ARCHIVE" ]] || build_base
) 9>"$IMAGES/.lock"
[[ -s "$PAUSE_ARCHIVE" && -s "$BASE_ARCHIVE" ]] || die "image archives missing after the build"
echo "export BYOK_PAUSE_IMAGE='$PAUSE_IMAGE' BYOK_PAUSE_ARCHIVE='$PAUSE_ARCHIVE'"
echo "export BYOK_BASE_IMAGE='$BASE_IMAGE' BYOK_BASE_ARCHIVE='$BASE_ARCHIVE'"

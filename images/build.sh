#!/usr/bin/env bash
# `npm run images`: builds the operator and proxy OCI images from ./Dockerfile with buildah, without a
# Docker daemon (vfs storage in the user cache folder). No registry is needed: the base image is made
# here from Debian bookworm (debootstrap, minbase) plus the Node binary of the pinned `node` package,
# with the same user (node, uid 1000) as Node's official bookworm-slim image. Cached: the base once
# per Node version, production dependencies once per lockfile.
#
# Writes sluice/operator:<version> and sluice/proxy:<version> into that storage and as OCI archives
# (printed on stdout, one per line) for `podman load`, `kind load image-archive` or `skopeo copy`.
# SLUICE_IMAGE_PREFIX changes the names (e.g. ghcr.io/acme/sluice- gives ghcr.io/acme/sluice-proxy);
# SLUICE_IMAGE_SOURCE sets the org.opencontainers.image.source label (the repository URL).
#
# `images/build.sh --context-only` assembles the build context (sources and production dependencies,
# which are pure JavaScript, so one context serves every architecture), prints its path and stops:
# the release workflow builds it with docker buildx for amd64 and arm64 on Node's official base.
set -euo pipefail
CONTEXT_ONLY=false
[ "${1:-}" = "--context-only" ] && CONTEXT_ONLY=true
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE_ROOT="${SLUICE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}"
OUT="$CACHE_ROOT/images"
NODE="$ROOT/node_modules/node/bin/node"
log() { echo "[images] $*" >&2; }

[ -x "$NODE" ] || { echo "run 'npm install' first: the images carry the pinned Node from node_modules/node" >&2; exit 1; }
VERSION="$("$NODE" -p "require('$ROOT/package.json').version")"
NODE_VERSION="$("$NODE" -p 'process.versions.node')"
PREFIX="${SLUICE_IMAGE_PREFIX:-sluice/}"
BASE="localhost/sluice-base:node$NODE_VERSION-bookworm"
mkdir -p "$OUT"
buildah() { command buildah --storage-driver vfs --root "$OUT/storage" --runroot "$OUT/run" "$@"; }

# Production dependencies, installed once per lockfile.
LOCK_HASH="$(sha256sum "$ROOT/package-lock.json" | cut -c1-16)"
DEPS="$OUT/prod-deps-$LOCK_HASH"
if [ ! -f "$DEPS/.complete" ]; then
  log "production dependencies (npm ci --omit=dev), once per lockfile"
  rm -rf "$DEPS" && mkdir -p "$DEPS"
  cp "$ROOT/package.json" "$ROOT/package-lock.json" "$DEPS/"
  (cd "$DEPS" && PATH="$(dirname "$NODE"):$PATH" npm ci --omit=dev --ignore-scripts --no-audit --no-fund >&2)
  touch "$DEPS/.complete"
fi

# The build context: exactly what the Dockerfile copies.
CONTEXT="$OUT/context"
rm -rf "$CONTEXT" && mkdir -p "$CONTEXT"
cp -al "$DEPS/node_modules" "$CONTEXT/node_modules"
cp "$ROOT/package.json" "$ROOT/Dockerfile" "$CONTEXT/"
for dir in lib/src proxy/src operator/src cli/src; do
  mkdir -p "$CONTEXT/$dir"
  (cd "$ROOT/$dir" && find . -name '*.ts' ! -name '*.test.ts' -print0 | tar --null -T - -cf - | tar -C "$CONTEXT/$dir" -xf -)
done
# The compile cache the images start from (see the Dockerfile), made by the same pinned Node.
NODE_COMPILE_CACHE="$CONTEXT/.cache/node-compile" NODE_COMPILE_CACHE_PORTABLE=1 "$NODE" "$CONTEXT/cli/src/warm-compile-cache.ts"

if [ "$CONTEXT_ONLY" = true ]; then echo "$CONTEXT"; exit 0; fi

missing=()
for tool in buildah debootstrap umoci; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "building images needs ${missing[*]}: run 'apt-get install -y ${missing[*]}' as root" >&2
    exit 1
  fi
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The base: Debian bookworm minbase, trimmed like the slim images, plus Node and the node user.
if ! buildah inspect --type image "$BASE" >/dev/null 2>&1; then
  ROOTFS="$OUT/rootfs-bookworm"
  if [ ! -f "$ROOTFS/.complete" ]; then
    log "debootstrap of Debian bookworm (minbase), once"
    rm -rf "$ROOTFS"
    MIRROR="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)"
    debootstrap --variant=minbase --include=ca-certificates bookworm "$ROOTFS" "${MIRROR:-http://deb.debian.org/debian}" >&2
    rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/usr/share/doc/* \
      "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/var/log/*
    touch "$ROOTFS/.complete"
  fi
  log "base image $BASE"
  STAGE="$(mktemp -d)"
  trap 'rm -rf "$STAGE"' EXIT
  cp -a "$ROOTFS/." "$STAGE/"
  rm -f "$STAGE/.complete"
  install -m 0755 "$NODE" "$STAGE/usr/local/bin/node"
  strip --strip-debug "$STAGE/usr/local/bin/node" 2>/dev/null || true
  echo 'node:x:1000:1000::/home/node:/bin/sh' >>"$STAGE/etc/passwd"
  echo 'node:x:1000:' >>"$STAGE/etc/group"
  echo 'node:!:19000::::::' >>"$STAGE/etc/shadow"
  install -d -o 1000 -g 1000 "$STAGE/home/node"
  tar -C "$STAGE" -cf "$OUT/base.tar" .
  ctr="$(buildah from scratch)"
  buildah add "$ctr" "$OUT/base.tar" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$NODE_VERSION" --cmd node \
    --label org.opencontainers.image.base.name="debian:bookworm (debootstrap minbase) + node $NODE_VERSION" "$ctr"
  buildah commit --quiet --rm "$ctr" "$BASE" >/dev/null
  rm -f "$OUT/base.tar"
fi

REVISION="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
CREATED="$(git -C "$ROOT" log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)"
for target in operator proxy; do
  image="${PREFIX}${target}:$VERSION"
  log "building $image"
  buildah bud --quiet --target "$target" --build-arg BASE_IMAGE="$BASE" \
    --label org.opencontainers.image.version="$VERSION" \
    --label org.opencontainers.image.revision="$REVISION" \
    --label org.opencontainers.image.created="$CREATED" \
    ${SLUICE_IMAGE_SOURCE:+--label org.opencontainers.image.source="$SLUICE_IMAGE_SOURCE"} \
    -t "$image" -f "$CONTEXT/Dockerfile" "$CONTEXT" >/dev/null
  archive="$OUT/sluice-$target-$VERSION.oci.tar"
  rm -f "$archive"
  buildah push --quiet "$image" "oci-archive:$archive:$image" >/dev/null
  echo "$archive"
done

#!/usr/bin/env bash
# Builds bench/targets/sse-upstream (a Go streaming upstream for the stream benchmark) into a cache
# folder outside the repository, once per version of its sources. Prints the binary's path on stdout.
set -euo pipefail
SRC="$(cd "$(dirname "$0")/sse-upstream" && pwd)"
CACHE_ROOT="${SLUICE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}"
SUM="$(cat "$SRC/main.go" "$SRC/go.mod" | sha256sum | cut -c1-16)"
OUT="$CACHE_ROOT/sse-upstream-$SUM"
if [ -x "$OUT/sse-upstream" ]; then echo "$OUT/sse-upstream"; exit 0; fi
command -v go >/dev/null || { echo "the stream benchmark builds its upstream with Go: put go on the PATH" >&2; exit 1; }
mkdir -p "$OUT"
(cd "$SRC" && CGO_ENABLED=0 go build -trimpath -o "$OUT/sse-upstream.partial" .) >&2
mv "$OUT/sse-upstream.partial" "$OUT/sse-upstream"
echo "$OUT/sse-upstream"

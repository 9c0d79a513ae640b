#!/usr/bin/env bash
# Builds test/support/opa-authz (our small Envoy ext_authz gRPC server evaluating Rego with OPA
# v1.22) into a cache folder outside the repository, once per version of its sources. Prints the
# binary's path on stdout.
set -euo pipefail
SRC="$(cd "$(dirname "$0")/../support/opa-authz" && pwd)"
CACHE_ROOT="${SLUICE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}"
SUM="$(cat "$SRC/main.go" "$SRC/go.mod" "$SRC/go.sum" | sha256sum | cut -c1-16)"
OUT="$CACHE_ROOT/opa-authz-$SUM"
if [ -x "$OUT/opa-authz" ]; then echo "$OUT/opa-authz"; exit 0; fi
command -v go >/dev/null || { echo "building opa-authz for the tests needs Go on the PATH" >&2; exit 1; }
mkdir -p "$OUT"
echo "[build-opa-authz] building the OPA ext_authz server (a few minutes, once)" >&2
(cd "$SRC" && CGO_ENABLED=0 go build -trimpath -o "$OUT/opa-authz.partial" .) >&2
mv "$OUT/opa-authz.partial" "$OUT/opa-authz"
echo "$OUT/opa-authz"

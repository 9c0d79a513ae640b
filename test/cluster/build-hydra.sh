#!/usr/bin/env bash
# Builds ORY Hydra (a real OpenID Connect provider) from its Go module into a cache folder outside
# the repository, once per pin; the OIDC tests run it with an in-memory SQLite store (cgo, -tags
# sqlite). Prints the binary's path on stdout.
set -euo pipefail
HYDRA_VERSION=v2.3.0
CACHE_ROOT="${SLUICE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}"
OUT="$CACHE_ROOT/hydra-$HYDRA_VERSION"
if [ -x "$OUT/hydra" ]; then echo "$OUT/hydra"; exit 0; fi
command -v go >/dev/null || { echo "building hydra for the tests needs Go on the PATH" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
echo "[build-hydra] building hydra $HYDRA_VERSION (a few minutes, once)" >&2
# Built as the main module: Hydra's go.mod replaces some dependencies (its own fork of pop), and
# replace directives only apply to the main module.
SRC="$(go mod download -json "github.com/ory/hydra/v2@$HYDRA_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
cp -r "$SRC" "$WORK/hydra"
chmod -R u+w "$WORK/hydra"
cd "$WORK/hydra"
# Its generated API client is a nested module that the module download leaves out: use the published one.
go mod edit -dropreplace github.com/ory/hydra-client-go/v2
go mod download github.com/ory/hydra-client-go/v2 >&2
CGO_ENABLED=1 go build -mod=mod -tags sqlite,sqlite_omit_load_extension -trimpath -o "$OUT/hydra.partial" . >&2
mv "$OUT/hydra.partial" "$OUT/hydra"
echo "$OUT/hydra"

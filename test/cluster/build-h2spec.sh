#!/usr/bin/env bash
# Builds h2spec (the HTTP/2 conformance tester) from its Go module into a cache folder outside the
# repository, once per pin. Prints the binary's path on stdout.
set -euo pipefail
H2SPEC_VERSION=v2.2.1+incompatible
CACHE_ROOT="${SLUICE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}"
OUT="$CACHE_ROOT/h2spec-${H2SPEC_VERSION%%+*}"
if [ -x "$OUT/h2spec" ]; then echo "$OUT/h2spec"; exit 0; fi
command -v go >/dev/null || { echo "building h2spec for the tests needs Go on the PATH" >&2; exit 1; }
mkdir -p "$OUT"
echo "[build-h2spec] building h2spec $H2SPEC_VERSION" >&2
GOBIN="$OUT" CGO_ENABLED=0 go install -trimpath "github.com/summerwind/h2spec/cmd/h2spec@$H2SPEC_VERSION" >&2
echo "$OUT/h2spec"

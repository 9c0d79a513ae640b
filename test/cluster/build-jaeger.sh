#!/usr/bin/env bash
# Builds Jaeger all-in-one (a real OpenTelemetry collector: OTLP receiver, in-memory store, query
# API) from its Go module into a cache folder outside the repository, once per pin. The module is
# taken as a Go tool of a throwaway module (its go.mod carries replace directives, so plain
# `go install module@version` refuses it). Prints the binary's path on stdout.
set -euo pipefail
JAEGER_VERSION=v1.76.0
CACHE_ROOT="${SLUICE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}"
OUT="$CACHE_ROOT/jaeger-$JAEGER_VERSION"
if [ -x "$OUT/jaeger" ]; then echo "$OUT/jaeger"; exit 0; fi
command -v go >/dev/null || { echo "building jaeger for the tests needs Go on the PATH" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
echo "[build-jaeger] building jaeger $JAEGER_VERSION (a few minutes, once)" >&2
cd "$WORK"
go mod init sluice.dev/jaeger-build >&2 2>&1
go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION" >&2
CGO_ENABLED=0 go build -trimpath -o "$OUT/jaeger.partial" github.com/jaegertracing/jaeger/cmd/jaeger >&2
mv "$OUT/jaeger.partial" "$OUT/jaeger"
echo "$OUT/jaeger"

#!/usr/bin/env bash
# Builds what `npm run conformance` runs, from Go modules at the pinned release, into a cache folder
# outside the repository (a clean clone on the same machine reuses it; a pin change rebuilds):
#   conformance.test  the official Gateway API conformance suite (sigs.k8s.io/gateway-api/conformance)
#   echo-basic        the suite's own echo backend, run unmodified as every echo-basic pod
#   coredns           the DNS server the suite's base manifests deploy (for the UDP tests)
#   gateway-api-crds-experimental/  the release's experimental-channel CRDs: the suite tests
#                     experimental fields (HTTPRoute retry) only where the API server keeps them
# Prints the folder on stdout.
set -euo pipefail

GATEWAY_API_VERSION=v1.6.3
COREDNS_VERSION=v1.12.2

CACHE_ROOT="${SLUICE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}"
OUT="$CACHE_ROOT/conformance/gwapi-$GATEWAY_API_VERSION-coredns-$COREDNS_VERSION"
log() { echo "[conformance/build] $*" >&2; }
command -v go >/dev/null || { echo "building the conformance suite needs Go on the PATH" >&2; exit 1; }

# The CRDs first, apart from the binaries: a folder built before they were added gets them too.
CRDS="$OUT/gateway-api-crds-experimental"
if [ ! -f "$CRDS/.complete" ]; then
  log "unpacking Gateway API $GATEWAY_API_VERSION experimental CRDs"
  GWAPI_DIR="$(go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
  rm -rf "$CRDS" && mkdir -p "$CRDS"
  cp "$GWAPI_DIR"/config/crd/experimental/gateway.networking.*.yaml "$CRDS/"
  # CRDs only: the release's upgrade-guard admission policy is for clusters that change channels.
  rm -f "$CRDS"/*_vap_*.yaml
  chmod -R u+w "$CRDS"
  touch "$CRDS/.complete"
fi
if [ -f "$OUT/.complete" ]; then echo "$OUT"; exit 0; fi
mkdir -p "$OUT/bin" "$OUT/src/suite" "$OUT/src/coredns"

cd "$OUT/src/suite"
cat > go.mod <<GOMOD
module sluice.test/conformance

go 1.26.0

require (
	sigs.k8s.io/gateway-api $GATEWAY_API_VERSION
	sigs.k8s.io/gateway-api/conformance $GATEWAY_API_VERSION
)
GOMOD
# The suite's own entry point (conformance_test.go of the module), as every implementation runs it:
# flags such as --gateway-class, --conformance-profiles and --report-output reach it after -args.
cat > conformance_test.go <<'GO'
package conformance_test

import (
	"testing"

	"sigs.k8s.io/gateway-api/conformance"
)

func TestConformance(t *testing.T) {
	conformance.RunConformance(t)
}
GO
cat > tools.go <<'GO'
//go:build tools

// Package tools pins the echo backend the suite's manifests run.
package tools

import _ "sigs.k8s.io/gateway-api/conformance/echo-basic"
GO
log "resolving sigs.k8s.io/gateway-api/conformance $GATEWAY_API_VERSION"
go mod tidy >&2
log "building the conformance suite"
CGO_ENABLED=0 go test -c -trimpath -o "$OUT/bin/conformance.test" . >&2
log "building echo-basic"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OUT/bin/echo-basic" sigs.k8s.io/gateway-api/conformance/echo-basic >&2

cd "$OUT/src/coredns"
cat > go.mod <<GOMOD
module sluice.test/coredns

go 1.26.0

require github.com/coredns/coredns $COREDNS_VERSION
GOMOD
cat > tools.go <<'GO'
//go:build tools

// Package tools pins the coredns server this module builds.
package tools

import _ "github.com/coredns/coredns"
GO
log "resolving coredns $COREDNS_VERSION"
go mod tidy >&2
log "building coredns"
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OUT/bin/coredns" github.com/coredns/coredns >&2

touch "$OUT/.complete"
echo "$OUT"

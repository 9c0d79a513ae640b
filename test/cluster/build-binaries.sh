#!/usr/bin/env bash
# Builds the real control plane the Kubernetes tests run against — kube-apiserver,
# kube-controller-manager and kubectl from the k8s.io/kubernetes Go module, etcd from
# go.etcd.io/etcd/server/v3 — and unpacks the Gateway API CRDs from sigs.k8s.io/gateway-api.
# Everything lands in a cache folder outside the repository keyed by the pins below, so a clean
# clone on the same machine reuses it and a pin change rebuilds. Prints the folder on stdout.
set -euo pipefail

KUBE_VERSION=v1.36.3
ETCD_VERSION=v3.6.16
GATEWAY_API_VERSION=v1.6.3

CACHE_ROOT="${SLUICE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}"
OUT="$CACHE_ROOT/cluster/kube-$KUBE_VERSION-etcd-$ETCD_VERSION-gwapi-$GATEWAY_API_VERSION"
BIN="$OUT/bin"
if [ -f "$OUT/.complete" ]; then echo "$OUT"; exit 0; fi

command -v go >/dev/null || { echo "building the test control plane needs Go on the PATH" >&2; exit 1; }
mkdir -p "$BIN" "$OUT/src/kube" "$OUT/src/etcd"
log() { echo "[build-binaries] $*" >&2; }

# k8s.io/kubernetes cannot be `go install`ed: its go.mod replaces every staging module with a
# local path. A module of our own requires it and points each staging module at its published
# v0.X.Y release instead; the list comes from that tag's own go.mod so it follows the pin.
KUBE_GOMOD="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
STAGING_VERSION="v0.${KUBE_VERSION#v1.}"
cd "$OUT/src/kube"
{
  echo "module sluice.test/kube"
  echo
  grep -m1 '^go ' "$KUBE_GOMOD"
  echo
  echo "require k8s.io/kubernetes $KUBE_VERSION"
  echo
  echo "replace ("
  grep -E '^\s*k8s.io/[a-z0-9-]+ => ./staging/' "$KUBE_GOMOD" |
    awk -v v="$STAGING_VERSION" '{ print "\t" $1 " => " $1 " " v }'
  echo ")"
} > go.mod
cat > tools.go <<'GO'
//go:build tools

// Package tools pins the control-plane commands this module builds.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
log "resolving k8s.io/kubernetes $KUBE_VERSION modules"
go mod tidy >&2
MINOR="${KUBE_VERSION#v1.}"; MINOR="${MINOR%%.*}"
LDFLAGS="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION \
 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$MINOR \
 -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION \
 -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$MINOR"
for cmd in kube-apiserver kube-controller-manager kubectl; do
  log "building $cmd (first build takes several minutes)"
  CGO_ENABLED=0 go build -trimpath -ldflags "$LDFLAGS" -o "$BIN/$cmd" "k8s.io/kubernetes/cmd/$cmd"
done

cd "$OUT/src/etcd"
cat > go.mod <<GOMOD
module sluice.test/etcd

go 1.24

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
GOMOD
cat > tools.go <<'GO'
//go:build tools

// Package tools pins the etcd server this module builds.
package tools

import _ "go.etcd.io/etcd/server/v3"
GO
log "building etcd $ETCD_VERSION"
go mod tidy >&2
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3

log "unpacking Gateway API $GATEWAY_API_VERSION standard CRDs"
GWAPI_DIR="$(go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')"
rm -rf "$OUT/gateway-api-crds" && mkdir -p "$OUT/gateway-api-crds"
cp "$GWAPI_DIR"/config/crd/standard/*.yaml "$OUT/gateway-api-crds/"
chmod -R u+w "$OUT/gateway-api-crds"

touch "$OUT/.complete"
echo "$OUT"

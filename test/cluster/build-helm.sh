#!/usr/bin/env bash
# Builds helm from helm.sh/helm/v3 (no replace lines, so `go install` works) into a cache folder
# outside the repository, once per pin. Prints the binary's path on stdout.
set -euo pipefail
HELM_VERSION=v3.22.0
CACHE_ROOT="${SLUICE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice}"
OUT="$CACHE_ROOT/helm-$HELM_VERSION"
if [ -x "$OUT/helm" ]; then echo "$OUT/helm"; exit 0; fi
command -v go >/dev/null || { echo "building helm for the tests needs Go on the PATH" >&2; exit 1; }
mkdir -p "$OUT"
echo "[build-helm] building helm $HELM_VERSION" >&2
# The version ldflags make `helm version` and the chart's default Kubernetes version truthful.
GOBIN="$OUT" CGO_ENABLED=0 go install -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=36 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=36" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
echo "$OUT/helm"

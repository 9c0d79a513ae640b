#!/usr/bin/env bash
# Installs what the test suite runs for real when it is missing: Redis, Prometheus, openssl, Chromium and
# the image tools (buildah, debootstrap, umoci, runc) from
# Debian (needs root for apt-get; without it, prints how to install and fails so no test silently
# skips), and the Kubernetes control plane and helm built from Go modules into a cache (a few
# minutes the first time only), h2spec, Jaeger, ORY Hydra (the OpenID provider) and the Gateway API
# conformance suite with its echo backend and coredns.
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
# Headless Chromium drives the OIDC login tests (playwright-core, with this browser).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# The image tests: buildah builds (npm run images), debootstrap makes the base, umoci unpacks the
# result into a runtime bundle and runc runs it as a container.
for tool in buildah debootstrap umoci runc; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "tests need ${missing[*]}: run 'apt-get install -y ${missing[*]}' as root" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
bash "$(dirname "$0")/../cluster/build-binaries.sh" >/dev/null
bash "$(dirname "$0")/../cluster/build-helm.sh" >/dev/null
bash "$(dirname "$0")/../cluster/build-h2spec.sh" >/dev/null
bash "$(dirname "$0")/../cluster/build-jaeger.sh" >/dev/null
bash "$(dirname "$0")/../cluster/build-hydra.sh" >/dev/null
bash "$(dirname "$0")/../cluster/build-opa-authz.sh" >/dev/null
bash "$(dirname "$0")/../../conformance/build.sh" >/dev/null

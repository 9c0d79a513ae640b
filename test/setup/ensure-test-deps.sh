#!/usr/bin/env bash
# Installs what the test suite runs for real (Redis) when it is missing. Needs root for apt-get;
# without it, prints how to install and fails so no test silently skips.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "tests need redis-server: run 'apt-get install -y redis-server' as root" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null

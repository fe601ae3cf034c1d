#!/usr/bin/env bash
# Debian packages the test suite starts or drives: redis-server (shared lookup cache tests) and
# chromium (the end-to-end browser test). PostgreSQL 15 binaries are part of the machine image.
# Idempotent: installs only what is missing; needs root (CI runs as root).
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${missing[*]} (run as root, or install them: apt-get install -y ${missing[*]})" >&2
  exit 0
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null

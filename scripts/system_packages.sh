#!/usr/bin/env bash
# Debian packages the test suite starts or drives: redis-server (shared lookup cache tests),
# chromium and an emoji font (the end-to-end browser test and its screenshots). PostgreSQL 15 binaries are part of the machine image.
# Idempotent: installs only what is missing; needs root (CI runs as root).
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# the console's status badges are emoji; without this font the screenshots show empty boxes
dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || missing+=(fonts-noto-color-emoji)
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

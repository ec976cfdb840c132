#!/usr/bin/env bash
# Installs everything Earshot needs on a fresh Debian machine with Node 20, idempotently:
# Debian packages (ffmpeg, PocketSphinx and its US English model, espeak-ng and sox for test
# audio, boto3 and the AWS CLI for client tests) and the npm dependencies. Safe to run on every `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."

# python3-boto3, python3-requests and awscli: the seeds' own clients, for the compatibility tests.
DEBIAN_PACKAGES=(ffmpeg pocketsphinx pocketsphinx-en-us libpocketsphinx-dev espeak-ng sox python3-boto3 python3-requests awscli)

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm dependencies: reinstall only when package-lock.json changed since the last install.
stamp=node_modules/.earshot-setup
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing npm dependencies (better-sqlite3 builds from source, about a minute)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

# The sealing addon (native/sealing.c: AES-256-GCM in place with Node's own OpenSSL), rebuilt
# when its sources change. Without it Earshot still works, sealing through node:crypto.
addon=build/Release/earshot_sealing.node
if [ ! -f "$addon" ] || [ native/sealing.c -nt "$addon" ] || [ binding.gyp -nt "$addon" ]; then
  echo "setup: building the sealing addon (native/sealing.c)"
  npm run --silent build:native >/dev/null
fi

#!/usr/bin/env bash
# Install the Debian packages the test suite drives for real, when they are missing.
set -euo pipefail

declare -A needs=(
  [/usr/bin/chromium]=chromium          # browser tests (Playwright drives Debian's Chromium)
  [/usr/sbin/dovecot]=dovecot-imapd     # e-mail tests talk to a real IMAP server
)

missing=()
for path in "${!needs[@]}"; do
  [ -x "$path" ] || missing+=("${needs[$path]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "The tests need these Debian packages: ${missing[*]}." >&2
  echo "Install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]} (apt-get)..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed ${missing[*]}"

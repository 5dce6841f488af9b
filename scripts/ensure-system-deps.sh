#!/usr/bin/env bash
# System packages the test suite runs against for real: Radicale (a CalDAV
# server) and Chromium (for Playwright). Installed from Debian's packages when
# missing and we may (root with apt-get); otherwise say what to install.
set -euo pipefail
missing=()
[ -x /usr/bin/radicale ] || missing+=(radicale)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing ${missing[*]} (Debian packages) for the test suite..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi

for pkg in "${missing[@]}"; do
  case "$pkg" in
    radicale) echo "The CalDAV tests need Radicale: sudo apt-get install radicale (or pip install radicale and link it to /usr/bin/radicale)." >&2; fail=1 ;;
    chromium) echo "Note: /usr/bin/chromium not found; Playwright will use its own browser (npx playwright install chromium)." >&2 ;;
  esac
done
exit "${fail:-0}"

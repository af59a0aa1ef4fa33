#!/usr/bin/env bash
# System packages the test suite drives for real: headless Chromium with its
# driver (browser tests), the PostgreSQL server binaries (storage tests
# start a throwaway cluster), the MariaDB server (the PBX CDR/CEL database
# tests start one, as FreePBX keeps its asteriskcdrdb), and npm for axe-core
# (the accessibility checker the browser tests inject; installed from the npm
# registry into tests/axe/, so nothing is downloaded while the tests run).
# Needs root for the Debian packages; otherwise it says what is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
install_axe() {
  if [ -f "$here/tests/axe/node_modules/axe-core/axe.min.js" ]; then return 0; fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "install npm to fetch axe-core for the accessibility tests (they are skipped without it)" >&2
    return 0
  fi
  (cd "$here/tests/axe" && npm ci --no-audit --no-fund --silent)
}
trap install_axe EXIT
need=()
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install these Debian packages for the full test suite: ${need[*]} (tests needing them are skipped)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

#!/usr/bin/env bash
# System packages the test suite drives for real: headless Chromium with its
# driver (browser tests), the PostgreSQL server binaries (storage tests
# start a throwaway cluster) and the MariaDB server (the PBX CDR/CEL database
# tests start one, as FreePBX keeps its asteriskcdrdb). Needs root; otherwise it says what is missing.
set -euo pipefail
need=()
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

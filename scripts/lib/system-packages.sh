#!/usr/bin/env bash
# Debian packages the end-to-end tests drive: Chromium (hosted pages), Caddy (TLS proxy),
# redis-server (a private instance that a test stops on purpose), wrk (the load generator of
# scripts/bench and its smoke test). Installed when missing and root.
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v caddy >/dev/null || missing+=(caddy)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v wrk >/dev/null || missing+=(wrk)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing ${missing[*]}" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "missing ${missing[*]}: the tests that need them are skipped (not with CI=true)" >&2
fi

#!/usr/bin/env bash
# Tools some tests need from outside PyPI: Spectral (npm) lints the generated OpenAPI
# documents, Debian's Chromium renders the /docs page. A test whose tool is absent skips and
# says why, so a failed install here never fails the run by itself.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .tools/node_modules/.bin/spectral ]; then
  if command -v npm >/dev/null; then
    npm install --silent --no-audit --no-fund --prefix .tools @stoplight/spectral-cli@6 >/dev/null \
      || echo "install-test-tools: Spectral not installed; the Spectral tests will skip" >&2
  else
    echo "install-test-tools: no npm; the Spectral tests will skip" >&2
  fi
fi
if ! command -v chromium >/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    { apt-get install -y -qq chromium >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }; } \
      || echo "install-test-tools: Chromium not installed; the /docs rendering test will skip" >&2
  else
    echo "install-test-tools: Chromium needs apt-get as root; the /docs rendering test will skip" >&2
  fi
fi
exit 0

#!/bin/sh
# Set up everything the test suite needs on a fresh machine:
# - Debian packages: Chromium (browser tests) and Java (the Nu HTML checker);
# - npm packages pinned in tests/tools/package-lock.json: vnu-jar (the Nu HTML checker) and axe-core;
# - the project itself with its test extra (pytest, feedparser, Playwright, hypothesis).
# Without root, missing Debian packages are reported and the tests that need them are skipped
# (except under CI=true, where they fail).
set -eu
cd "$(dirname "$0")/.."

missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium fonts-dejavu-core"
command -v java >/dev/null 2>&1 || missing="$missing default-jre-headless"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "tests/setup.sh: please install:$missing (browser and HTML checks are skipped without them)" >&2
  fi
fi

if command -v npm >/dev/null 2>&1; then
  npm ci --prefix tests/tools --no-audit --no-fund --ignore-scripts --loglevel=error
else
  echo "tests/setup.sh: npm not found; the HTML checker and axe-core tests are skipped" >&2
fi

python -m pip install -q -e '.[test]'

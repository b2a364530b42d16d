#!/usr/bin/env bash
# The README's test command, and the first thing CI runs (.ci/run): on a fresh Debian machine,
# install what the tests need, then run the whole suite (arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
# The browser tests (the widget, /docs offline) drive Debian's Chromium: never `playwright
# install`, which downloads a browser build of its own.
if [ ! -x /usr/bin/chromium ]; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi
python3 -m venv .venv
.venv/bin/pip install -q -e '.[test]'
exec .venv/bin/python -m pytest "$@"

#!/usr/bin/env bash
# The browser suite: the HTML briefing rendered by a real headless Chromium at 1280 and 400 px, screenshots taken
# and horizontal overflow on a phone measured (tests/integration/test_html_browser.py).
set -euo pipefail
if ! command -v chromium >/dev/null; then
    sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
    $sudo_ apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -q chromium
fi
# pytest exits 5 when nothing was collected: a suite that didn't run fails the step
.venv/bin/python -m pytest --suite browser

#!/bin/sh
# The browser that tests/test_explore.py drives: Debian's chromium and chromium-driver.
# Installed with apt-get when missing, where apt-get exists and this runs as root; otherwise this
# says so and the browser test is skipped (under CI=true it fails). Always exits 0.
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    if apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; then
        exit 0
    fi
    echo "install-browser: apt-get could not install chromium chromium-driver" >&2
    exit 0
fi
echo "install-browser: no chromium/chromedriver and no root apt-get; the explorer's browser test will be skipped" >&2
exit 0

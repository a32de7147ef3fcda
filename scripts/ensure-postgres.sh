#!/bin/sh
# Make PostgreSQL's server binaries available for the tests (which start their own server).
# Installs Debian's `postgresql` package when missing and we may use apt; otherwise says loudly
# that the PostgreSQL tests will be skipped.
set -u
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then
    exit 0
fi
echo "ensure-postgres: PostgreSQL server binaries not found; installing Debian's postgresql package" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
if command -v apt-get >/dev/null 2>&1; then
    $SUDO apt-get update -qq >/dev/null 2>&1
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1 && exit 0
fi
echo "ensure-postgres: WARNING: could not install PostgreSQL; PostgreSQL tests WILL BE SKIPPED" >&2
exit 0

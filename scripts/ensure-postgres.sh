#!/bin/sh
# Make PostgreSQL's server binaries available for the tests (which start their own server).
# Installs Debian's `postgresql` package when missing and we may use apt. When that fails:
# under CI=true exit 1 (a green CI run must have exercised PostgreSQL); locally warn loudly and
# exit 0 (the PostgreSQL tests then skip, and pytest's summary lists them).
# CODEAI_PG_BINDIR, when set, is the only place looked at (as in tests/codeai_testing/pgserver.py).
set -u
have_pg() {
    if [ -n "${CODEAI_PG_BINDIR:-}" ]; then
        "$CODEAI_PG_BINDIR/initdb" --version >/dev/null 2>&1
        return
    fi
    for initdb in /usr/lib/postgresql/*/bin/initdb; do
        "$initdb" --version >/dev/null 2>&1 && return 0
    done
    command -v initdb >/dev/null 2>&1 && initdb --version >/dev/null 2>&1
}
under_ci() {
    case "$(printf '%s' "${CI:-}" | tr 'A-Z' 'a-z')" in 1|true|yes) return 0 ;; *) return 1 ;; esac
}
have_pg && exit 0
echo "ensure-postgres: PostgreSQL server binaries not found; installing Debian's postgresql package" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
if [ -z "${CODEAI_PG_BINDIR:-}" ] && command -v apt-get >/dev/null 2>&1; then
    $SUDO apt-get update -qq >/dev/null 2>&1
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1
    have_pg && exit 0
fi
if under_ci; then
    echo "ensure-postgres: ERROR: PostgreSQL could not be installed and CI=true: failing (the PostgreSQL tests must run in CI)" >&2
    exit 1
fi
echo "ensure-postgres: WARNING: could not install PostgreSQL; PostgreSQL tests WILL BE SKIPPED (CI=true would fail)" >&2
exit 0

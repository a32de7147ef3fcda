#!/bin/sh
# Make PostgreSQL's server binaries available for the tests (which start their own server);
# the install-or-skip policy is in ensure-common.sh.
# CODEAI_PG_BINDIR, when set, is the only place looked at (as in tests/codeai_testing/pgserver.py).
set -u
. "$(dirname "$0")/ensure-common.sh"
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
have_pg && exit 0
echo "ensure-postgres: PostgreSQL server binaries not found; installing Debian's postgresql package" >&2
if [ -z "${CODEAI_PG_BINDIR:-}" ] && command -v apt-get >/dev/null 2>&1; then
    apt_install postgresql
    have_pg && exit 0
fi
give_up ensure-postgres PostgreSQL PostgreSQL

#!/bin/sh
# Make a `redis-server` binary available for the tests (which start their own server on a free
# 127.0.0.1 port, without persistence, and stop it; no system service is used).
# Installs Debian's `redis-server` package when missing and we may use apt. When that fails:
# under CI=true exit 1 (a green CI run must have exercised Redis); locally warn loudly and
# exit 0 (the Redis tests then skip, and pytest's summary lists them).
# CODEAI_REDIS_SERVER, when set, is the only binary looked at (as in
# tests/codeai_testing/redisserver.py).
set -u
have_redis() {
    if [ -n "${CODEAI_REDIS_SERVER:-}" ]; then
        "$CODEAI_REDIS_SERVER" --version >/dev/null 2>&1
        return
    fi
    command -v redis-server >/dev/null 2>&1 && redis-server --version >/dev/null 2>&1
}
under_ci() {
    case "$(printf '%s' "${CI:-}" | tr 'A-Z' 'a-z')" in 1|true|yes) return 0 ;; *) return 1 ;; esac
}
have_redis && exit 0
echo "ensure-redis: redis-server not found; installing Debian's redis-server package" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"
if [ -z "${CODEAI_REDIS_SERVER:-}" ] && command -v apt-get >/dev/null 2>&1; then
    # The package's maintainer scripts would start a system-wide Redis on port 6379; the tests
    # never use it, so forbid service starts during the install (policy-rc.d exit 101, the
    # Debian convention that invoke-rc.d and deb-systemd-invoke honour) unless a policy exists.
    POLICY=/usr/sbin/policy-rc.d
    OWN_POLICY=""
    if [ ! -e "$POLICY" ] && printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null 2>&1; then
        $SUDO chmod 755 "$POLICY" && OWN_POLICY=1
    fi
    $SUDO apt-get update -qq >/dev/null 2>&1
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server \
        >/dev/null 2>&1
    [ -n "$OWN_POLICY" ] && $SUDO rm -f "$POLICY"
    have_redis && exit 0
fi
if under_ci; then
    echo "ensure-redis: ERROR: redis-server could not be installed and CI=true: failing (the Redis tests must run in CI)" >&2
    exit 1
fi
echo "ensure-redis: WARNING: could not install redis-server; Redis tests WILL BE SKIPPED (CI=true would fail)" >&2
exit 0

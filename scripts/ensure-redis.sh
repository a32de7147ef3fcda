#!/bin/sh
# Make a `redis-server` binary available for the tests (which start their own server on a free
# 127.0.0.1 port, without persistence, and stop it; no system service is used); the
# install-or-skip policy is in ensure-common.sh.
# CODEAI_REDIS_SERVER, when set, is the only binary looked at (as in
# tests/codeai_testing/redisserver.py).
set -u
. "$(dirname "$0")/ensure-common.sh"
have_redis() {
    if [ -n "${CODEAI_REDIS_SERVER:-}" ]; then
        "$CODEAI_REDIS_SERVER" --version >/dev/null 2>&1
        return
    fi
    command -v redis-server >/dev/null 2>&1 && redis-server --version >/dev/null 2>&1
}
have_redis && exit 0
echo "ensure-redis: redis-server not found; installing Debian's redis-server package" >&2
if [ -z "${CODEAI_REDIS_SERVER:-}" ] && command -v apt-get >/dev/null 2>&1; then
    # The package's maintainer scripts would start a system-wide Redis on port 6379; the tests
    # never use it, so forbid service starts during the install (policy-rc.d exit 101, the
    # Debian convention that invoke-rc.d and deb-systemd-invoke honour) unless a policy exists.
    POLICY=/usr/sbin/policy-rc.d
    OWN_POLICY=""
    if [ ! -e "$POLICY" ] && printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null 2>&1; then
        $SUDO chmod 755 "$POLICY" && OWN_POLICY=1
    fi
    apt_install --no-install-recommends redis-server
    [ -n "$OWN_POLICY" ] && $SUDO rm -f "$POLICY"
    have_redis && exit 0
fi
give_up ensure-redis redis-server Redis

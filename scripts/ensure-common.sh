# Sourced by ensure-postgres.sh and ensure-redis.sh: the policy they share. A component that is
# missing is installed from Debian's packages when apt may be used; when that fails, under
# CI=true the script fails (a green CI run must have exercised the component), locally it
# warns loudly and exits 0 (the tests that need it then skip, and pytest's summary lists them).
under_ci() {
    case "$(printf '%s' "${CI:-}" | tr 'A-Z' 'a-z')" in 1|true|yes) return 0 ;; *) return 1 ;; esac
}
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo -n"

# apt_install PACKAGE-ARGS...: quiet, non-interactive.
apt_install() {
    $SUDO apt-get update -qq >/dev/null 2>&1
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}

# give_up SCRIPT WHAT TESTS: the component is still missing after the attempt.
give_up() {
    if under_ci; then
        echo "$1: ERROR: $2 could not be installed and CI=true: failing (the $3 tests must run in CI)" >&2
        exit 1
    fi
    echo "$1: WARNING: could not install $2; $3 tests WILL BE SKIPPED (CI=true would fail)" >&2
    exit 0
}

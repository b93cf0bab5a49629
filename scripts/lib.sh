# shellcheck shell=bash
# Helpers shared by scripts/setup, scripts/test, scripts/stack, .ci/run and bench/run.
# Source it; it is not a command:  . "$(dirname "$0")/lib.sh"

BULKHEAD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export BULKHEAD_ROOT

# Debian packages the Swift build needs (system libraries of CSQLite and COpenSSL).
# Add new system dependencies here (e.g. libopenblas-dev) and every entry point picks them up.
# shellcheck disable=SC2034 # used by the scripts that source this file
BULKHEAD_APT_PACKAGES=(libsqlite3-dev libssl-dev pkg-config)

# Where the toolchain lives on the project's machines when it is not on PATH.
BULKHEAD_SWIFT_DIR="${BULKHEAD_SWIFT_DIR:-/opt/swift/usr/bin}"

bh_log() { printf '%s\n' "$*" >&2; }
bh_die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Put the Swift toolchain on PATH if `swift` is not there yet. Returns 1 if no toolchain is found.
bh_ensure_swift_path() {
    if command -v swift >/dev/null 2>&1; then
        return 0
    fi
    if [ -x "$BULKHEAD_SWIFT_DIR/swift" ]; then
        PATH="$BULKHEAD_SWIFT_DIR:$PATH"
        export PATH
        return 0
    fi
    return 1
}

bh_require_swift() {
    bh_ensure_swift_path || bh_die "swift not found: it is not on PATH and not at $BULKHEAD_SWIFT_DIR/swift.
  Install Swift 6 (https://www.swift.org/install/linux/) and put its usr/bin on PATH,
  or set BULKHEAD_SWIFT_DIR to the directory that holds the swift binary."
    local version
    if ! version="$(swift --version 2>&1)"; then
        bh_die "'$(command -v swift) --version' failed:
$version"
    fi
    case "$version" in
        *"Swift version "[6-9]* | *"Swift version "[1-9][0-9]*) ;;
        *"Swift version "*) bh_die "Swift 6 or newer is needed; $(command -v swift) is: ${version%%$'\n'*}" ;;
        *) bh_die "$(command -v swift) is not the Swift toolchain (swift --version printed: ${version%%$'\n'*})" ;;
    esac
}

# Print the packages among "$@" that dpkg does not report as fully installed.
bh_apt_missing() {
    local p status
    for p in "$@"; do
        status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
        [ "$status" = "install ok installed" ] || printf '%s\n' "$p"
    done
}

# Install the Debian packages among "$@" that are missing. Silent when nothing is missing.
bh_apt_ensure() {
    command -v dpkg-query >/dev/null 2>&1 || bh_die "dpkg-query not found: this script expects Debian/Ubuntu; install $* by hand"
    local missing
    mapfile -t missing < <(bh_apt_missing "$@")
    [ "${#missing[@]}" -eq 0 ] && return 0

    command -v apt-get >/dev/null 2>&1 || bh_die "missing packages: ${missing[*]} (and no apt-get to install them)"
    local -a sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || bh_die "missing packages: ${missing[*]}; not root and no sudo. Run as root: apt-get install ${missing[*]}"
        if [ -t 0 ]; then sudo=(sudo); else sudo=(sudo -n); fi
    fi
    local log
    log="$(mktemp "${TMPDIR:-/tmp}/bulkhead-apt.XXXXXX")"
    bh_log "setup: installing Debian packages: ${missing[*]}"
    # Wait for a concurrent apt/dpkg (up to 10 min) instead of failing on the lock.
    local -a apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=600)
    if ! "${apt[@]}" update >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        rm -f "$log"
        bh_die "apt-get update failed (see above)"
    fi
    if ! "${apt[@]}" install --no-install-recommends "${missing[@]}" >>"$log" 2>&1; then
        tail -n 30 "$log" >&2
        rm -f "$log"
        bh_die "apt-get install ${missing[*]} failed (see above)"
    fi
    rm -f "$log"
    mapfile -t missing < <(bh_apt_missing "$@")
    [ "${#missing[@]}" -eq 0 ] || bh_die "still not installed after apt-get install: ${missing[*]}"
}

# Seconds since $1 (a $SECONDS value), for phase timings.
bh_since() { echo "$((SECONDS - $1))s"; }

#!/bin/sh
# Runs a command inside a private D-Bus session with a real, unlocked gnome-keyring (Linux tests).
#
# Usage: packages/provider-keychain/scripts/with-keyring.sh <command> [args...]
# Installs gnome-keyring, dbus-x11 and libsecret-tools when missing (Debian/Ubuntu, needs root or
# sudo), then starts `dbus-run-session`, unlocks a fresh keyring under a throw-away HOME so the
# user's own keyring is never touched, and runs the command with that session's bus address.
set -eu

if [ "$#" -eq 0 ]; then
  echo "usage: $0 <command> [args...]" >&2
  exit 2
fi

missing_packages() {
  missing=""
  command -v gnome-keyring-daemon >/dev/null 2>&1 || missing="$missing gnome-keyring"
  command -v dbus-launch >/dev/null 2>&1 || missing="$missing dbus-x11"
  command -v secret-tool >/dev/null 2>&1 || missing="$missing libsecret-tools"
  command -v dbus-run-session >/dev/null 2>&1 || missing="$missing dbus"
  echo "$missing"
}

install_packages() {
  missing="$(missing_packages)"
  [ -n "$missing" ] || return 0
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # Only refresh the package lists when apt has never fetched them (an `apt-get update` costs seconds).
  if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e '^lock$' -e '^partial$' || true)" ]; then
    $sudo apt-get update -qq
  fi
  # shellcheck disable=SC2086 # the list is meant to split into words
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null \
    || { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null; }
}

if [ -n "$(missing_packages)" ]; then
  # Test files run in parallel and each may get here: one installs, the others wait, then re-check.
  if command -v flock >/dev/null 2>&1; then
    exec 9>"${TMPDIR:-/tmp}/claude-key-keyring-apt.lock"
    flock 9
  fi
  install_packages
  exec 9>&-
fi

# A throw-away HOME and runtime dir: the daemon creates its "login" keyring (the default
# collection) there, unlocked with the password piped to --unlock.
keyring_home="$(mktemp -d "${TMPDIR:-/tmp}/claude-key-keyring.XXXXXX")"
chmod 700 "$keyring_home"
trap 'rm -rf "$keyring_home"' EXIT INT TERM
mkdir -p -m 700 "$keyring_home/runtime"

# The bus daemon's own stderr goes to a log, shown only if the session fails: in containers it
# always says "Failed to set fd limit to 65536: Operation not permitted", which no one can act on.
cat > "$keyring_home/dbus-daemon" <<EOF
#!/bin/sh
exec dbus-daemon "\$@" 2>>"$keyring_home/dbus-daemon.log"
EOF
chmod 700 "$keyring_home/dbus-daemon"

# Never let the daemon find (and talk to) the user's own keyring daemon.
unset GNOME_KEYRING_CONTROL DBUS_SESSION_BUS_ADDRESS
status=0
HOME="$keyring_home" XDG_RUNTIME_DIR="$keyring_home/runtime" XDG_DATA_HOME="$keyring_home/data" \
  dbus-run-session --dbus-daemon="$keyring_home/dbus-daemon" -- sh -c '
    started="$(printf "%s" "claude-key-test" | gnome-keyring-daemon --unlock --daemonize --components=secrets 2>/dev/null)" \
      || { echo "with-keyring: gnome-keyring-daemon did not start" >&2; exit 1; }
    eval "$started"
    export GNOME_KEYRING_CONTROL
    # Lets a test suite know it is inside this session (and may re-run itself here otherwise).
    export CLAUDE_KEY_KEYRING_SESSION=1
    exec "$@"
  ' with-keyring "$@" || status=$?
if [ "$status" -ne 0 ] && [ -s "$keyring_home/dbus-daemon.log" ]; then
  grep -v 'Failed to set fd limit' "$keyring_home/dbus-daemon.log" | sed 's/^/with-keyring: dbus-daemon: /' >&2 || true
fi
exit "$status"

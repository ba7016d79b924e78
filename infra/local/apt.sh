# shellcheck shell=bash
# Package installs for the local stack: only what is missing, never starting
# the distro's own services. Sourced by common.sh.

# as_root CMD...: apt needs root; fall back to sudo for non-root developers.
as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# apt_ensure PKG...: install the packages that are missing, and nothing else.
apt_ensure() {
  local pkg missing=() guard=""
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  log "apt: installing ${missing[*]}"
  # Debian starts services on install; a system mariadb/redis would take our
  # ports. policy-rc.d exiting 101 forbids that, only for this install.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    guard=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$guard" >/dev/null
    as_root chmod 755 "$guard"
    # Never leave it behind (Ctrl-C mid-install): it blocks every service start.
    trap 'as_root rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  local rc=0 apt_log="$LOG_DIR/apt.log"
  # One `apt-get update` per run, and only once something is really missing.
  if [[ -z "${APT_UPDATED:-}" ]]; then
    as_root apt-get update -q >>"$apt_log" 2>&1 || rc=$?
    APT_UPDATED=1
  fi
  ((rc == 0)) && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends "${missing[@]}" >>"$apt_log" 2>&1 || rc=$?
  if [[ -n "$guard" ]]; then as_root rm -f "$guard"; trap - EXIT; fi
  ((rc == 0)) || { tail -n 40 "$apt_log" >&2; die "apt-get install ${missing[*]} failed, see $apt_log"; }
  disable_system_service "${missing[@]}"
}

# disable_system_service PKG...: keep the distro's own instance off our ports
# (systemd would still start it at the next boot).
disable_system_service() {
  local pkg unit
  for pkg in "$@"; do
    case "$pkg" in
      mariadb-server) unit=mariadb ;;
      redis-server) unit=redis-server ;;
      prometheus) unit=prometheus ;;
      *) continue ;;
    esac
    if [[ -d /run/systemd/system ]]; then
      as_root systemctl disable --now "$unit" >/dev/null 2>&1 || true
    elif command -v service >/dev/null; then
      as_root service "$unit" stop >/dev/null 2>&1 || true
    fi
  done
}

# need_cmd CMD PKG: install PKG when CMD is not on PATH (java, mvn, python3).
need_cmd() {
  command -v "$1" >/dev/null 2>&1 || apt_ensure "$2"
}

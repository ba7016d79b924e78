# shellcheck shell=bash
# Shared paths, settings and helpers for the local (Docker-free) stack.
# Sourced by stack.sh and services.sh; defines variables and functions only.

LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd "$LOCAL_DIR/../.." && pwd -P)"
DATA_DIR="${SPORTSFEED_DATA_DIR:-$REPO_ROOT/.data}"
# Resolve to an absolute path: the daemons run from other working directories.
mkdir -p "$DATA_DIR"
DATA_DIR="$(cd "$DATA_DIR" && pwd -P)"
LOG_DIR="$DATA_DIR/logs"
RUN_DIR="$DATA_DIR/run"
LOCAL_ENV="$DATA_DIR/local.env"
mkdir -p "$LOG_DIR" "$RUN_DIR"

# Package helpers (need_cmd, apt_ensure) are part of this API: services.sh uses them.
# shellcheck source=infra/local/apt.sh
source "$LOCAL_DIR/apt.sh"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

# local_env_get KEY: value of KEY in local.env, empty when absent.
local_env_get() {
  [[ -f "$LOCAL_ENV" ]] || return 0
  sed -n "s/^$1=//p" "$LOCAL_ENV" | tail -n 1
}

# Ports: an env override wins, then what local.env recorded (so a later `status`
# or `stop` without the override still looks at the right port), then defaults.
_port_from_env_file() { local_env_get "$1" | sed -n "$2" ; }
KAFKA_PORT="${SPORTSFEED_KAFKA_PORT:-$(_port_from_env_file SPORTSFEED_KAFKA_BOOTSTRAP 's/.*:\([0-9]*\)$/\1/p')}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
# shellcheck disable=SC2034  # used by kafka.sh
KAFKA_CONTROLLER_PORT="${SPORTSFEED_KAFKA_CONTROLLER_PORT:-9093}"
MYSQL_PORT="${SPORTSFEED_MYSQL_PORT:-$(local_env_get SPORTSFEED_MYSQL_PORT)}"
MYSQL_PORT="${MYSQL_PORT:-3306}"
REDIS_PORT="${SPORTSFEED_REDIS_PORT:-$(_port_from_env_file SPORTSFEED_REDIS_URL 's|.*:\([0-9]*\)/.*|\1|p')}"
REDIS_PORT="${REDIS_PORT:-6379}"

# ensure_local_env: create local.env once (mode 600); afterwards only the port
# lines follow a changed override, the password never changes.
ensure_local_env() {
  local password tmp
  password="$(local_env_get SPORTSFEED_MYSQL_PASSWORD)"
  [[ -n "$password" ]] || password="$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
  tmp="$(umask 077 && mktemp "$DATA_DIR/.local.env.XXXXXX")"
  cat >"$tmp" <<EOF
SPORTSFEED_KAFKA_BOOTSTRAP=127.0.0.1:$KAFKA_PORT
SPORTSFEED_MYSQL_HOST=127.0.0.1
SPORTSFEED_MYSQL_PORT=$MYSQL_PORT
SPORTSFEED_MYSQL_USER=sportsfeed
SPORTSFEED_MYSQL_PASSWORD=$password
SPORTSFEED_MYSQL_DATABASE=sportsfeed
SPORTSFEED_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
EOF
  if [[ -f "$LOCAL_ENV" ]] && cmp -s "$tmp" "$LOCAL_ENV"; then
    rm -f "$tmp"
  else
    [[ -f "$LOCAL_ENV" ]] && log "updating ports in $LOCAL_ENV"
    chmod 600 "$tmp" && mv -f "$tmp" "$LOCAL_ENV"
  fi
}

# pid_of PIDFILE PATTERN: print the pid if it is alive and really our process
# (a stale pid file may point at a recycled pid).
pid_of() {
  local pid
  [[ -s "$1" ]] || return 1
  pid="$(tr -dc '0-9' <"$1")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 1
  printf '%s\n' "$pid"
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# launch LOGFILE CMD...: run CMD detached in its own session so it outlives the
# calling shell (`make up` returns); fd 9 is the stack lock and must not leak.
# Prints the pid: setsid only forks for a group leader, which a background
# child of a non-interactive shell never is, so the pid is the daemon's.
# It returns once the daemon itself runs (at most 5 s): until then /proc shows this
# shell's command line, then setsid's and nohup's as each execs the next, and a check by
# command line (pid_of) made in between would take a daemon that is still starting for
# a dead one (seen on a loaded machine: "prometheus failed to start" with nothing in its
# log, and the daemon up a second later: a read of /proc/PID/cmdline while nohup execs
# it comes back empty).
launch() {
  local logfile="$1"; shift
  local last="${@: -1}" pid i cmd
  (exec setsid nohup "$@" </dev/null >>"$logfile" 2>&1 9>&-) &
  pid="$!"
  for ((i = 0; i < 100; i++)); do
    # Gone (a daemon that forks, like redis-server, exits its first pid): read as empty,
    # never as a failure that `set -e` in the caller would exit on.
    cmd="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" || cmd=""
    case "$cmd" in
      '' | 'setsid '* | 'nohup '*) ;;  # still on its way to the daemon
      *"$last"*) break ;;
    esac
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  printf '%s\n' "$pid"
}

# stop_pid PID NAME TIMEOUT: SIGTERM, wait for a clean exit, then SIGKILL.
stop_pid() {
  local pid="$1" name="$2" timeout="$3" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < timeout * 4; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.25
  done
  log "$name (pid $pid) did not exit within ${timeout}s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 1  # let the kernel release its ports before a restart
}

# fail_with_log NAME LOGFILE: the contract on any start failure.
fail_with_log() {
  printf '[stack] ERROR: %s failed to start; last 40 lines of %s:\n' "$1" "$2" >&2
  tail -n 40 "$2" >&2 2>/dev/null || true
  exit 1
}

# status_line NAME STATE PID PORT
status_line() {
  printf '%-8s %-9s pid=%-8s port=%s\n' "$1" "$2" "${3:--}" "$4"
}

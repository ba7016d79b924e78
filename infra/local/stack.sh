#!/usr/bin/env bash
# Local SportsFeed infrastructure without Docker: Kafka (KRaft), MariaDB, Redis.
#
#   infra/local/stack.sh <install|start|stop|status|restart> [all|kafka|mariadb|redis]
#
# State lives under ${SPORTSFEED_DATA_DIR:-<repo>/.data}; credentials are written
# to .data/local.env on first start (source infra/local/env.sh to use them).
# status exits 0 when every asked service answers, 3 otherwise.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=infra/local/common.sh
source "$HERE/common.sh"
# shellcheck source=infra/local/kafka.sh
source "$HERE/kafka.sh"
# shellcheck source=infra/local/mariadb.sh
source "$HERE/mariadb.sh"
# shellcheck source=infra/local/redis.sh
source "$HERE/redis.sh"

ALL_SERVICES=(kafka mariadb redis)

usage() {
  printf 'usage: %s <install|start|stop|status|restart> [all|kafka|mariadb|redis]\n' "$0" >&2
  exit 2
}

# Serialise mutating commands: two concurrent `start`s (say, two test runs)
# must not both launch a broker. fd 9 is closed in every launched daemon.
take_lock() {
  exec 9>"$RUN_DIR/stack.lock"
  flock -w 300 9 || die "another stack.sh is still running (lock $RUN_DIR/stack.lock)"
}

do_install() {
  local svc
  for svc in "$@"; do "${svc}_install"; done
}

do_start() {
  ensure_local_env
  # The broker takes longest to boot: launch it first and wait for it last.
  if [[ " $* " == *" kafka "* ]]; then kafka_launch; fi
  if [[ " $* " == *" mariadb "* ]]; then mariadb_start; fi
  if [[ " $* " == *" redis "* ]]; then redis_start; fi
  if [[ " $* " == *" kafka "* ]]; then kafka_wait; fi
}

do_stop() {
  local svc
  for svc in "$@"; do "${svc}_stop"; done
}

do_status() {
  local svc rc=0
  for svc in "$@"; do "${svc}_status" || rc=3; done
  return "$rc"
}

main() {
  (($# >= 1 && $# <= 2)) || usage
  local cmd="$1" target="${2:-all}" services
  case "$target" in
    all) services=("${ALL_SERVICES[@]}") ;;
    kafka | mariadb | redis) services=("$target") ;;
    *) usage ;;
  esac
  case "$cmd" in
    install) take_lock; do_install "${services[@]}" ;;
    start) take_lock; do_start "${services[@]}" ;;
    stop) take_lock; do_stop "${services[@]}" ;;
    restart) take_lock; do_stop "${services[@]}"; do_start "${services[@]}" ;;
    status) do_status "${services[@]}" ;;
    *) usage ;;
  esac
}

main "$@"

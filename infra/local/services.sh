#!/usr/bin/env bash
# The platform's own services on top of the local stack (which stack.sh runs).
#
#   infra/local/services.sh <start|stop|status> [NAME...]
#
# Each service is a `python -m` entry point from .venv, detached, logging to
# .data/logs/<name>.log. A service whose module does not exist yet is skipped, so
# `make up` always runs everything there is. start waits for /readyz (or /healthz);
# on failure it exits non-zero with the tail of that service's log.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=infra/local/common.sh
source "$HERE/common.sh"
PY="$REPO_ROOT/.venv/bin/python"
SERVICES_ENV="$DATA_DIR/services.env"
CONSUMER_KEYS="$DATA_DIR/consumer-keys"

# name | port | ready path | module (file that must exist) | arguments
# Ingestion runs SPORTSFEED_INGESTION_WORKERS processes on :4000 (default: half the cores, at least one)
# under one supervisor, whose pid is the one recorded; SIGTERM to it stops them all.
SERVICES=(
  "ingestion|4000|/readyz|services/ingestion/__main__.py|-m services.ingestion"
  "processor-football|4101|/healthz|services/processors/__main__.py|-m services.processors football"
  "processor-basketball|4102|/healthz|services/processors/__main__.py|-m services.processors basketball"
  "processor-tennis|4103|/healthz|services/processors/__main__.py|-m services.processors tennis"
  "processor-ice_hockey|4104|/healthz|services/processors/__main__.py|-m services.processors ice_hockey"
  "distribution|4002|/readyz|services/distribution/__main__.py|-m services.distribution"
  "pricing|4105|/readyz|services/pricing/__main__.py|-m services.pricing run"
  "trading|4106|/readyz|services/trading/__main__.py|-m services.trading run"
  "feedgen|4004|/healthz|feed-generator/feedgen/__main__.py|-m feedgen serve"
)

# ensure_services_env: the provider key the generator uses against ingestion,
# made once per checkout (secrets have no defaults in code).
ensure_services_env() {
  [[ -s "$SERVICES_ENV" ]] && return 0
  local key
  key="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
  (umask 077 && printf 'SPORTSFEED_INGESTION_API_KEYS=feedgen:%s\nSPORTSFEED_FEEDGEN_API_KEY=%s\n' \
    "$key" "$key" >"$SERVICES_ENV")
}

# ensure_consumer_key: the consumer key of the trading page and of anyone reading the
# local feed (every scope), in a keys file distribution re-reads on SIGHUP, made once per
# checkout; services.env points distribution at the file (appended to older checkouts').
ensure_consumer_key() {
  if [[ ! -s "$CONSUMER_KEYS" ]]; then
    local key
    key="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
    (umask 077 && printf '%s\n%s\nlocal %s all\n' \
      '# SportsFeed consumer keys: name key scopes [limit=value ...] (docs/rest.md).' \
      '# Edit, then: kill -HUP "$(cat .data/run/distribution.pid)"' "$key" >"$CONSUMER_KEYS")
  fi
  grep -q '^SPORTSFEED_DISTRIBUTION_API_KEYS_FILE=' "$SERVICES_ENV" \
    || printf 'SPORTSFEED_DISTRIBUTION_API_KEYS_FILE=%s\n' "$CONSUMER_KEYS" >>"$SERVICES_ENV"
}

consumer_key() {  # the key named "local", if the file still has it
  awk '$1 == "local" { print $2; exit }' "$CONSUMER_KEYS" 2>/dev/null || true
}

load_env() {
  need_cmd curl curl
  ensure_services_env
  ensure_consumer_key
  # shellcheck source=infra/local/env.sh
  source "$HERE/env.sh"
  set -a
  # shellcheck disable=SC1090
  source "$SERVICES_ENV"
  set +a
}

ready() {  # ready PORT PATH
  curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$1$2" 2>/dev/null
}

start_one() {
  local name="$1" port="$2" path="$3" args="$4" pidfile="$RUN_DIR/$1.pid" log="$LOG_DIR/$1.log" pid i
  if pid="$(pid_of "$pidfile" "$args")"; then
    log "$name already running (pid $pid)"
    return 0
  fi
  port_open "$port" && die "$name: port $port is taken by another process"
  # shellcheck disable=SC2086  # args is a word list on purpose
  pid="$(cd "$REPO_ROOT" && launch "$log" "$PY" $args)"
  printf '%s\n' "$pid" >"$pidfile"
  for ((i = 0; i < 240; i++)); do
    ready "$port" "$path" && { log "$name ready on :$port (pid $pid)"; return 0; }
    kill -0 "$pid" 2>/dev/null || fail_with_log "$name" "$log"
    sleep 0.5
  done
  fail_with_log "$name" "$log"
}

stop_one() {
  local name="$1" args="$2" pidfile="$RUN_DIR/$1.pid" pid
  if pid="$(pid_of "$pidfile" "$args")"; then
    log "stopping $name (pid $pid)"
    stop_pid "$pid" "$name" 30
  fi
  rm -f "$pidfile"
}

prepare_pricing() {
  # Football's fitting data and a first model, before the pricing service starts: the
  # history import (files imported before are skipped, so a second `make up` pays ~1 s),
  # then a fit of each sport that has no stored model yet (football on the history; the
  # others wait for the feed's results, priced by their prior until the service refits).
  local data="${HISTORY_DATA:-../shared/data/football-data}" log="$LOG_DIR/pricing-fit.log"
  if [[ -d "$REPO_ROOT/$data" || -d "$data" ]]; then
    (cd "$REPO_ROOT" && "$PY" -m services.history import "$data" --no-progress --skip-imported) \
      >>"$log" 2>&1 || log "history import failed (see $log)"
  else
    log "no football-data files at $data: football is priced by its prior until the feed's results"
  fi
  (cd "$REPO_ROOT" && "$PY" -m services.pricing fit --all --if-missing) >>"$log" 2>&1 \
    || log "pricing fit failed (see $log)"
  log "pricing models: $(grep -E '^(football|basketball|tennis|ice_hockey): ' "$log" | tail -4 | cut -c1-90 | paste -sd';' - | sed 's/;/; /g')"
}

start_feed() {
  # A modest, endless feed so the trading page moves; stop it with `make down`.
  curl -fsS -m 5 -X POST -H 'Content-Type: application/json' \
    -d "{\"matches\": ${SPORTSFEED_UP_MATCHES:-24}, \"rate\": ${SPORTSFEED_UP_RATE:-40}, \"duration\": ${SPORTSFEED_UP_DURATION:-7200}, \"formats\": \"json,xml,uof\"}" \
    "http://127.0.0.1:4004/start" >/dev/null || log "feed generator did not accept /start (see $LOG_DIR/feedgen.log)"
}

selected() {  # selected NAME WANTED...
  local name="$1"; shift
  (($# == 0)) && return 0
  local want
  for want in "$@"; do [[ "$want" == "$name" ]] && return 0; done
  return 1
}

main() {
  local cmd="${1:-}" entry name port path file args rc=0
  shift || true
  case "$cmd" in start | stop | status) ;; *) die "usage: $0 <start|stop|status> [NAME...]" ;; esac
  [[ "$cmd" == start ]] && load_env
  local entries=("${SERVICES[@]}")
  # Stop in reverse order: the generator first, the processors after ingestion.
  if [[ "$cmd" == stop ]]; then
    entries=(); for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do entries+=("${SERVICES[$i]}"); done
  fi
  for entry in "${entries[@]}"; do
    IFS='|' read -r name port path file args <<<"$entry"
    selected "$name" "$@" || continue
    [[ -f "$REPO_ROOT/$file" ]] || continue
    case "$cmd" in
      start)
        if [[ "$name" == pricing ]] && ! pid_of "$RUN_DIR/$name.pid" "$args" >/dev/null; then
          prepare_pricing
        fi
        start_one "$name" "$port" "$path" "$args"
        [[ "$name" == feedgen ]] && start_feed
        ;;
      stop) stop_one "$name" "$args" ;;
      status)
        if pid="$(pid_of "$RUN_DIR/$name.pid" "$args")" && ready "$port" "$path"; then
          status_line "$name" running "$pid" "$port"
        else
          status_line "$name" stopped "" "$port"; rc=3
        fi
        ;;
    esac
  done
  if [[ "$cmd" == start ]]; then
    local key
    key="$(consumer_key)"
    key="${key:-<a key of $CONSUMER_KEYS>}"
    cat <<TXT
SportsFeed is up.
  consumer key   $key   (every scope; keys in $CONSUMER_KEYS)
  trading page   http://127.0.0.1:4002/#key=$key
  REST           curl -H 'Authorization: Bearer $key' http://127.0.0.1:4002/v1/events   (OpenAPI: /openapi.json)
  WebSocket      ws://127.0.0.1:4003/   (the key in the first message, or Authorization: Bearer)
  ingestion      http://127.0.0.1:4000/v1/feed/json
  fair prices    http://127.0.0.1:4002/v1/events/<id>/prediction   (pricing: http://127.0.0.1:4105/readyz)
  metrics        http://127.0.0.1:<port>/metrics   (4000, 4002, 4004, 4101-4106; Prometheus: make up)
  operations     http://127.0.0.1:4002/ops#key=$key   (the key series, from Prometheus)
  logs           $LOG_DIR/
TXT
  fi
  return "$rc"
}

main "$@"

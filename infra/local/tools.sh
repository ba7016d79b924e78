#!/usr/bin/env bash
# Debian tools the tests and benchmarks need beside the stack, installed only if missing.
#
#   infra/local/tools.sh test    # chromium (the pages' browser tests), prometheus and
#                                # promtool (the rules' and metrics' tests, the operations page)
#   infra/local/tools.sh bench   # wrk, the HTTP load generator of the benchmarks
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=infra/local/common.sh
source "$HERE/common.sh"

case "${1:-}" in
  test) need_cmd chromium chromium; need_cmd promtool prometheus; need_cmd prometheus prometheus ;;
  bench) need_cmd wrk wrk; need_cmd chromium chromium ;;
  *) die "usage: $0 <test|bench>" ;;
esac

#!/usr/bin/env bash
# Debian tools the tests and benchmarks need beside the stack, installed only if missing.
#
#   infra/local/tools.sh test    # chromium, for the trading page's browser test
#   infra/local/tools.sh bench   # wrk, the HTTP load generator of the benchmarks
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source=infra/local/common.sh
source "$HERE/common.sh"

case "${1:-}" in
  test) need_cmd chromium chromium ;;
  bench) need_cmd wrk wrk; need_cmd chromium chromium ;;
  *) die "usage: $0 <test|bench>" ;;
esac

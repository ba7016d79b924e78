# shellcheck shell=sh
# Source me:  . infra/local/env.sh
# Exports each KEY=VALUE of the local stack's credentials file
# (${SPORTSFEED_DATA_DIR:-<repo>/.data}/local.env) unless KEY is already set to a
# non-empty value, so an explicit environment override always wins.
# Sourced into the caller's shell: no `set -e`, no `exit`, no leftover variables.

# POSIX sh (make's default shell) cannot tell a sourced file's path: bash and
# zsh find the repo from this file, other shells from the current git checkout.
if [ -n "${BASH_VERSION:-}" ]; then
  eval '_sf_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"'
elif [ -n "${ZSH_VERSION:-}" ]; then
  eval '_sf_repo="$(cd "$(dirname "${(%):-%x}")/../.." && pwd -P)"'
else
  _sf_repo="$(git rev-parse --show-toplevel 2>/dev/null || pwd)"
fi
_sf_file="${SPORTSFEED_DATA_DIR:-$_sf_repo/.data}/local.env"
if [ -r "$_sf_file" ]; then
  while IFS= read -r _sf_line || [ -n "$_sf_line" ]; do
    case "$_sf_line" in
      '' | '#'*) continue ;;
    esac
    _sf_key="${_sf_line%%=*}"
    case "$_sf_key" in
      *[!A-Za-z0-9_]* | [0-9]*) continue ;;  # not a variable name: skip, never eval
    esac
    if [ -z "$(eval "printf '%s' \"\${$_sf_key:-}\"")" ]; then
      export "$_sf_key=${_sf_line#*=}"
    fi
  done <"$_sf_file"
  unset _sf_repo _sf_file _sf_line _sf_key
else
  printf 'env.sh: %s not found; run infra/local/stack.sh start first\n' "$_sf_file" >&2
  unset _sf_repo _sf_file
  # shellcheck disable=SC2317  # reached only when run instead of sourced
  return 1 2>/dev/null || true
fi

#!/usr/bin/env bash
# A built checkout of Warren at REV, to run beside this one: `node dist/bench/run.js --baseline DIR`.
#
#   bench/baseline.sh REV [DIR]     # DIR defaults to /tmp/warren-baseline-REV; prints DIR
#
# DIR becomes a detached git worktree of REV (or, if it already is a worktree, is moved to REV). It
# gets a symlink to this checkout's node_modules when REV's package-lock.json is the same as this
# one's, else its own `npm ci`; then `npx tsc -p .` builds it. Keep DIR outside the repository;
# `git worktree remove DIR` drops it.
set -euo pipefail

rev=${1:?usage: bench/baseline.sh REV [DIR]}
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${2:-/tmp/warren-baseline-${rev//\//-}}

dir=$(realpath -m "$dir")
case "$dir/" in
  "$(realpath "$repo")"/*) echo "$dir is inside this checkout; put the baseline elsewhere (e.g. /tmp)" >&2; exit 1 ;;
esac
if [ -d "$dir" ] && [ "$(git -C "$dir" rev-parse --show-toplevel 2>/dev/null)" = "$dir" ]; then
  git -C "$dir" checkout --quiet --detach "$rev" >&2
else
  git -C "$repo" worktree add --detach "$dir" "$rev" >&2
fi

if [ ! -e "$dir/node_modules" ]; then
  if cmp -s "$repo/package-lock.json" "$dir/package-lock.json"; then
    ln -s "$(readlink -f "$repo/node_modules")" "$dir/node_modules"
  else
    echo "package-lock.json differs from this checkout's: npm ci in $dir" >&2
    (cd "$dir" && npm ci --no-audit --no-fund) >&2
  fi
fi
(cd "$dir" && npx tsc -p .) >&2
echo "$dir"

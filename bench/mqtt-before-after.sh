#!/usr/bin/env bash
# Two builds of Warren beside mosquitto, alternately, in one sitting: each round runs BEFORE's and then
# AFTER's bench/mqtt.js (each starts its own Warren and mosquitto), so load from other processes hits
# both alike. Prints every run's Warren / mosquitto ratios and keeps the full tables.
#
#   bash bench/mqtt-before-after.sh BEFORE_DIR AFTER_DIR [ROUNDS=2] [extra bench/mqtt.js options]
#   e.g. git worktree add /work/wt-base main && (cd /work/wt-base && npm ci)
#        bash bench/mqtt-before-after.sh /work/wt-base . 2
# Both dirs must be built (npm ci / npx tsc -p .). Default options: --only throughput,latency
# --brokers warren,mosquitto (options both builds' bench accepts).
set -euo pipefail
before=$(cd "${1:?BEFORE_DIR}" && pwd)
after=$(cd "${2:?AFTER_DIR}" && pwd)
rounds=${3:-2}
shift $(( $# < 3 ? $# : 3 ))
out=$(mktemp -d /tmp/mqtt-before-after.XXXXXX)
ulimit -n 20000 2>/dev/null || true

summarize() { # the bench's markdown -> one line per case: rates, ratio, CPU per delivery; p99s
  awk -F'|' '
    /^\| QoS [01] 1 -> / { gsub(/^ +| +$/, "", $2); gsub(/^ +| +$/, "", $3); rate[$3] = $4; us[$3] = $6
      if ($3 ~ /mosquitto/) printf "  %-16s Warren %8.0f/s %5.1f us   mosquitto %8.0f/s %5.1f us   rate %s  CPU/delivery %s\n", $2, rate["Warren"], us["Warren"], $4, $6, $8, $9 }
    /^\| [01] \| / { gsub(/^ +| +$/, "", $2); gsub(/^ +| +$/, "", $3)
      if ($3 ~ /mosquitto/) printf "  latency QoS %s      p50 / p99 ms: Warren %s / %s   mosquitto %s / %s\n", $2, p50w, p99w, $4, $5
      else { p50w = $4; p99w = $5 } }
  ' "$1"
}

for round in $(seq 1 "$rounds"); do
  for side in before after; do
    dir=$before; [ "$side" = after ] && dir=$after
    file="$out/$side-$round.md"
    (cd "$dir" && node dist/bench/mqtt.js --only throughput,latency --brokers warren,mosquitto "$@" > "$file" 2> "$file.log")
    echo "round $round, $side ($dir @ $(git -C "$dir" rev-parse --short HEAD)): $(grep -o 'load average before: .*' "$file")"
    summarize "$file"
  done
done
echo "full tables in $out"

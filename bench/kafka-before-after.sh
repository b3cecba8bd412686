#!/bin/bash
# Side-by-side kcat figures of two Warren builds (e.g. the kafka branch before stored batches and this one):
#   bench/kafka-before-after.sh BEFORE_DIR AFTER_DIR [RECORDS_OF_100B]
# Each DIR is a built checkout (npx tsc -p .). For 100 B and 1 KiB records, acks=1 and acks=all (store
# sync 'always': acks=all is answered after fdatasync), each build gets a fresh server and data dir;
# kcat produces the same bytes (RECORDS_OF_100B of 100 B, a tenth as many of 1 KiB) with
# linger.ms=5, batch.num.messages=10000, then replays the topic from the beginning. Prints records/s and
# MB/s (payload) per build and the after/before ratio, with /proc/loadavg before and after.
set -u
BEFORE=$1; AFTER=$2; N100=${3:-500000}
WORK=$(mktemp -d /tmp/warren-bench.XXXX); trap 'rm -rf "$WORK"' EXIT
python3 -c "import sys; sys.stdout.write(('x'*99+'\n')*$N100)" > "$WORK/r100"
python3 -c "import sys; sys.stdout.write(('y'*1023+'\n')*($N100//10))" > "$WORK/r1024"

# one BUILD SIZE ACKS -> "produce_rps fetch_rps"
one() {
  local dir=$1 size=$2 acks=$3 n data log pid port s e produce fetch got
  n=$([ "$size" = 100 ] && echo "$N100" || echo $((N100 / 10)))
  data=$(mktemp -d "$WORK/data.XXXX"); log="$data.log"
  node "$dir/dist/src/cli/main.js" server --data-dir "$data" --kafka-port 0 --kafka-auto-create-topics true \
    --amqp-port 0 --http-port 0 > "$log" 2>&1 &
  pid=$!
  port=
  for _ in $(seq 1 200); do
    port=$(grep -o 'Kafka listening on [0-9.]*:[0-9]*' "$log" | grep -o '[0-9]*$' | head -1)
    [ -n "$port" ] && break; sleep 0.2
  done
  s=$(date +%s.%N)
  kcat -P -b "127.0.0.1:$port" -t t -X "acks=$acks" -X linger.ms=5 -X batch.num.messages=10000 < "$WORK/r$size"
  e=$(date +%s.%N); produce=$(python3 -c "print(round($n/($e-$s)))")
  s=$(date +%s.%N); got=$(kcat -C -b "127.0.0.1:$port" -t t -e -o beginning -q | wc -l); e=$(date +%s.%N)
  fetch=$(python3 -c "print(round($got/($e-$s)))")
  [ "$got" = "$n" ] || echo "WARNING: fetched $got of $n records" >&2
  kill -INT $pid; wait $pid 2>/dev/null; rm -rf "$data" "$log"
  echo "$produce $fetch"
}

echo "load before: $(cat /proc/loadavg)"
echo "| size | acks | produce before | produce after | ratio | fetch before | fetch after | ratio |"
echo "|---|---|---|---|---|---|---|---|"
for size in 100 1024; do
  for acks in 1 all; do
    read -r pb fb < <(one "$BEFORE" $size $acks)
    read -r pa fa < <(one "$AFTER" $size $acks)
    python3 - "$size" "$acks" "$pb" "$pa" "$fb" "$fa" <<'PY'
import sys
size, acks, pb, pa, fb, fa = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
mb = lambda r: f"{r*int(size)/1e6:.1f} MB/s"
print(f"| {size} B | {acks} | {pb:,}/s ({mb(pb)}) | {pa:,}/s ({mb(pa)}) | {pa/pb:.1f}x | {fb:,}/s ({mb(fb)}) | {fa:,}/s ({mb(fa)}) | {fa/fb:.1f}x |")
PY
  done
done
echo "load after: $(cat /proc/loadavg)"

#!/usr/bin/env bash
# The README's demo: a real pool started, watched, scaled and stopped through rpd; then, where
# redis-server is installed, a pool of rpd's built-in Resque workers draining a real queue, and a pool
# that sizes itself from its queue (autoscaling) as a burst arrives and drains.
set -euo pipefail
cd "$(dirname "$0")/.."
rpd() { printf '\n$ rpd'; printf ' %q' "$@"; printf '\n'; node bin/run.js "$@"; }
tmp=$(mktemp -d /tmp/rpd-demo.XXXXXX)
export RPD_STATE_DIR=${RPD_STATE_DIR:-$tmp/state}
export RPD_COMMAND=${RPD_COMMAND:-$PWD/examples/worker.sh}
redis_pid=
cleanup() {
  node bin/run.js stop --timeout 10 >/dev/null 2>&1 || true
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "== A pool of command workers (state directory $RPD_STATE_DIR, worker $RPD_COMMAND)"
rpd start foo=2 bar=2 '*=1' --app demo
rpd scale bar=4 foo=1
rpd status
rpd logs -n 0 --until 'worked job' --timeout 15
rpd restart bar
rpd stop
rpd status || echo "(exit $?: not running)"

if ! command -v redis-server >/dev/null; then
  echo; echo "== (install redis-server to see the built-in Resque worker too)"
  exit 0
fi
echo; echo "== A pool of built-in Resque workers on a private redis-server"
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
redis_pid=$!
export REDIS_URL=redis://127.0.0.1:$port INTERVAL=0.2
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
rpd start demo=2 --jobs examples/jobs.mjs
rpd enqueue demo Resize '"photo.png"' 800 --count 300
rpd scale demo=+4
rpd status
for _ in $(seq 100); do
  [ "$(node bin/run.js status --json | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log(JSON.parse(s).redis?.queues?.demo ?? 0))")" = 0 ] && break
  sleep 0.2
done
rpd status
rpd stop

echo; echo "== A pool that scales itself: images=0..6 sized from its queue, each decision logged with its reason"
rpd start 'images=0..6' --jobs examples/jobs.mjs
rpd autoscale images --down-after 5s
rpd enqueue images Resize '"photo.png"' 800 --count 600
rpd logs -n 0 --until 'autoscale: images 0 -> ' --timeout 15
rpd status
rpd logs -n 0 --until 'autoscale: images [0-9]+ -> 0 ' --timeout 60
rpd autoscale
rpd stop

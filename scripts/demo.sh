#!/usr/bin/env bash
# The README's demo: a real pool of example workers, started, watched, scaled and stopped through rpd.
set -euo pipefail
cd "$(dirname "$0")/.."
rpd() { echo; echo "\$ rpd $*"; node bin/run.js "$@"; }
export RPD_STATE_DIR=${RPD_STATE_DIR:-$(mktemp -d /tmp/rpd-demo.XXXXXX)/state}
export RPD_COMMAND=${RPD_COMMAND:-$PWD/examples/worker.sh}
trap 'node bin/run.js stop --timeout 10 >/dev/null 2>&1 || true' EXIT
echo "state directory: $RPD_STATE_DIR   worker command: $RPD_COMMAND"
rpd start foo=2 bar=2 '*=1' --app demo
rpd scale bar=4 foo=1
rpd status
rpd logs -n 0 --until 'worked job' --timeout 15
rpd restart bar
rpd status --json | head -n 12
rpd stop
rpd status || echo "(exit $?: not running)"

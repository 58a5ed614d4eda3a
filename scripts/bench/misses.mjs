// For each missed target: where the time (or CPU) went in this run, from the run's own measurements, and what
// in rpd would reach the target.
import { median } from './lib/measure.mjs'
import {
  QUIET_FOR_MS,
  QUIET_MIN_MS,
  WAIT_CONFIRM_MS,
  WORKER_SETTLE_MS,
} from '../../dist/master/command-started.js'

const ms = (v) => (Number.isFinite(v) ? `${Math.round(v)} ms` : 'n/a')
const pct = (v) => (Number.isFinite(v) ? `${v.toFixed(1)} %` : 'n/a')
const m = (runs, get) => median((runs ?? []).map(get).filter((v) => Number.isFinite(v)))

// Milliseconds oclif, the master's imports, yaml and proper-lockfile add to a bare `node -e 0`.
function bootCosts(boot) {
  if (!boot) return undefined
  const node = median(boot.node)
  return {
    node,
    oclif: median(boot.oclif) - node,
    cli: median(boot.cli) - node,
    startPool: median(boot.startPool) - node,
    scaleAction: median(boot.scaleAction) - node,
    master: median(boot.master) - node,
    yaml: median(boot.yaml) - node,
    lockfile: median(boot.lockfile) - node,
  }
}

function explainStart({ lifecycle, boot }) {
  const rpd = lifecycle.rpd
  const start = m(rpd, (r) => r.startMs)
  const up = m(rpd, (r) => r.start.masterUpMs)
  const lastSpawn = m(rpd, (r) => r.start.lastSpawnMs)
  const applied = m(rpd, (r) => r.start.appliedMs)
  const pm2Visible = m(lifecycle.pm2Warm, (r) => r.visibleMs)
  const pm2Start = m(lifecycle.pm2Warm, (r) => r.startMs)
  const cost = bootCosts(boot)
  const lines = [
    `Where rpd's ${ms(start)} went (medians, from the master's own timestamps in status.json): the master was ` +
      `up after ${ms(up)}, its 8 workers were spawned by ${ms(lastSpawn)}, status.json said all started at ` +
      `${ms(applied)}, and the call returned at ${ms(start)}. PM2, its daemon already running, had all 8 ` +
      `processes up after ${ms(pm2Visible)} and returned at ${ms(pm2Start)}.`,
    '',
    `- **Booting two Node processes (${ms(up)}).** The CLI launches the master first and holds it on a pipe ` +
      'while it loads the rest of start and writes pool.yml, so the two boots overlap; on two cores they still ' +
      'share the CPU with the workers being spawned.' +
      (cost
        ? ` Here the CLI's start path adds ${ms(cost.startPool)} to \`node -e 0\` (${ms(cost.node)}) and the ` +
          `master's imports ${ms(cost.master)}.`
        : ''),
    `- **Telling a started worker (${ms(applied - lastSpawn)}).** ${STARTED_RULE}, so that \`start\` can report a ` +
      'command that cannot run. PM2 calls a process online as soon as it is spawned.',
    '',
    'What would reach it: a master that boots from a V8 startup snapshot (it already runs from one bundled ' +
      "file, and a command without shell syntax is exec'd by setpriv without `bash -c`), or a CLI start path " +
      'that launches the master before loading anything but the argument checks.',
  ]
  return lines.join('\n')
}

// How a command worker counts as started (src/master/command-started.ts).
export const STARTED_RULE =
  `a command worker counts as started once its whole process tree has exec'd its command and sits blocked in a ` +
  `waiting system call, using no CPU, on two readings ${WAIT_CONFIRM_MS} ms apart (read every ${WAIT_CONFIRM_MS} ms ` +
  `while it is young); failing that, from ${QUIET_MIN_MS} ms on, once it has used no CPU for ${QUIET_FOR_MS} ms, ` +
  `or once it has stayed up \`WORKER_SETTLE_MS\` = ${WORKER_SETTLE_MS} ms`

function explainScale({ lifecycle, boot }) {
  const rpd = lifecycle.rpd
  const scale = m(rpd, (r) => r.scaleMs)
  const first = m(rpd, (r) => r.scale.firstSpawnMs)
  const last = m(rpd, (r) => r.scale.lastSpawnMs)
  const applied = m(rpd, (r) => r.scale.appliedMs)
  const pm2 = m(lifecycle.pm2, (r) => r.scaleMs)
  const cost = bootCosts(boot)
  return [
    `rpd's first new worker was spawned ${ms(first)} after the call (the CLI booting, taking the lock, ` +
      `rewriting pool.yml and sending HUP; the master re-reading pool.yml), the last at ${ms(last)}; status.json ` +
      `said all 16 started at ${ms(applied)} and the call returned at ${ms(scale)}. \`pm2 scale\` is one request ` +
      `from a CLI to a daemon that is already running: ${ms(pm2)}.`,
    '',
    `Of rpd's time, ${ms(applied - last)} is telling that they started (${STARTED_RULE}) and ` +
      `${ms(first)} is getting the change to the master: starting Node` +
      (cost
        ? ` (${ms(cost.node)}) and loading the scale path (${ms(cost.scaleAction)} over \`node -e 0\`, ` +
          `proper-lockfile ${ms(cost.lockfile)} of it, which the lock needs; pool.yml is read and written without ` +
          `the yaml package, ${ms(cost.yaml)} to load)`
        : '') +
      ', taking the lock, rewriting pool.yml, the HUP and the master re-reading it. The CLI no longer loads oclif.',
    '',
    'Telling a started worker is no fixed window any more: a worker that waits in a system call is started ' +
      'within a few ms of its exec. What is left is mostly the change reaching the master.',
    '',
    'What would reach it: handing the change to the running master over a socket in the state directory, so ' +
      'that the CLI loads no lock and the master (which already holds pool.yml in memory) rewrites it; by the ' +
      `start-up costs above that saves roughly the lockfile import, ${ms(cost ? cost.lockfile : NaN)}, against ` +
      `a gap of ${ms(scale - 0.8 * pm2)} to 0.8× PM2 here.`,
  ].join('\n')
}

function explainStop({ lifecycle }) {
  const rpd = lifecycle.rpd
  const stop = m(rpd, (r) => r.stopMs)
  const finished = m(rpd, (r) => r.stop.masterFinishedMs)
  const returned = m(rpd, (r) => r.stop.returnedMs)
  const late = rpd.filter((r) => r.stop.returnedMs - r.stop.masterFinishedMs > 50).length
  const pm2 = m(lifecycle.pm2, (r) => r.stopMs)
  return [
    `The master logged \`manager finished\` ${ms(finished)} after \`rpd stop\` was called (medians), but the ` +
      `call returned at ${ms(returned)}; in ${late} of ${rpd.length} runs it returned more than 50 ms after the ` +
      `master's last line. \`pm2 delete\`: ${ms(pm2)}.`,
    '',
    "The gap is the CLI's wait loop: `follow()` in `src/state/log-tail.ts` wakes on file events in the state " +
      "directory and otherwise every `WATCH_FALLBACK_MS` = 250 ms. The master's last file events (status.json " +
      'saying stopped, master.pid removed, the last log line) come just before it exits, so the check they ' +
      'trigger in `stopPool` (`src/client/stop-pool.ts`) still finds the master alive, and the next look comes up ' +
      'to 250 ms later.',
    '',
    'What would reach it: once master.pid is gone or status.json says stopped, look at `/proc/PID` every few ' +
      'milliseconds (bounded) until the master has exited, instead of waiting for the fallback tick; or wait on ' +
      "something the master's exit itself closes, such as a pipe it holds open. Without the gap `rpd stop` " +
      `would take about ${ms(stop - (returned - finished))} here.`,
  ].join('\n')
}

function explainThroughput({ throughput }) {
  const rate = m(throughput.rpd, (r) => r.rate)
  const workers = m(throughput.rpd, (r) => r.workersCpuPct)
  const peer = m(throughput.multiWorker, (r) => r.rate)
  const peerCpu = m(throughput.multiWorker, (r) => r.cpuPct)
  const limit = m(throughput.limit, (r) => r.rate)
  const one = m(throughput.limitOne, (r) => r.rate)
  const warmRate = m(throughput.rpd, (r) => r.warmRate)
  const warmPeer = m(throughput.multiWorker, (r) => r.warmRate)
  return [
    `In the measured window (medians) rpd ran ${Math.round(rate)} jobs/s while its 4 workers used ` +
      `${pct(workers)} of a core together (${Math.round((workers / 100 / rate) * 1e6)} µs of CPU per job); ` +
      `MultiWorker ran ${Math.round(peer)} jobs/s on ${pct(peerCpu)} (${Math.round((peerCpu / 100 / peer) * 1e6)} µs ` +
      `per job). Redis itself is far from its limit: the per-job script alone ran ${Math.round(limit)} jobs/s, ` +
      `and ${Math.round(one)} jobs/s one at a time, that is with a single worker's chain of round trips.`,
    '',
    '- **One round trip per job is the floor.** Each built-in worker sends one script per job (end of the ' +
      'last job, reserve of the next, `WorkerRegistry.advance`). Resque records a job in `resque:worker:ID` ' +
      'before it runs, so the next job cannot start before Redis has answered; fetching several jobs ahead ' +
      'saves nothing unless a job may start before its record reaches Redis (then a kill at that moment ' +
      'records a finished job as failed and runs a started one again).',
    '- **Four processes, one wake-up each per job.** With one job in flight per worker, the rate is 4 ÷ the ' +
      "time of one cycle (Redis's answer, then the job, then the next send). A V8 profile of a worker shows it " +
      'waiting about 80 % of the time; the one-at-a-time limit above is that wait for a single client on an ' +
      `otherwise idle machine: a loopback round trip here costs ${Math.round(1e6 / one)} µs, most of it waking a ` +
      'halted virtual CPU. On 2 cores shared with Redis, the master and the rest of the machine, each of the 4 ' +
      "processes must also be scheduled once per job. MultiWorker's task processors share one event loop, so " +
      'one wake-up serves several replies, and its CPU per job falls as the machine gets busier.',
    ...(warmRate && warmPeer
      ? [
          `- **Fresh workers.** The figure is taken on workers that have just started. A second batch on the same, ` +
            `now warm, workers ran ${Math.round(warmRate)} jobs/s against MultiWorker's ${Math.round(warmPeer)} ` +
            `(${(warmRate / warmPeer).toFixed(2)}×). The worker asks V8 to optimise its loop sooner ` +
            '(`src/worker/tier-up.ts`) to shorten the cold phase; a single MultiWorker process warms its shared code ' +
            'four times as fast as four processes do.',
        ]
      : []),
    '',
    'What would reach it: more cores (the processes then run side by side; on an idle machine one worker ' +
      'alone reaches the one-at-a-time limit), or relaxing when a job counts as started (see above), which ' +
      'rpd does not do.',
  ].join('\n')
}

const GENERIC = {
  'status-node':
    '`rpd status` is answered in `bin/run.js` without oclif (`src/cli/fast-cli.ts`); what it adds to `node -e 0` ' +
    'is its module graph and reading /proc for each worker. Look for a heavy import on that path.',
  'status-pm2': 'See the row above: the same command, compared with `pm2 jlist`.',
  survival:
    'Some workers of the unchanged group were replaced: reconcile (`src/master/reconcile.ts`) must leave a group ' +
    'whose count did not change alone.',
  rss: "The master's RSS is mostly Node's own; look for a large import in the master's module graph.",
  'idle-cpu':
    'An idle master should not wake up at all: look for a timer or polling loop in `src/master/master.ts` ' +
    '(its fs.watch of the state directory, a fallback tick) that fires with nothing to do.',
  'big-idle': 'As for the 8-worker pool: something wakes the master while nothing happens.',
  'throughput-ruby':
    'Ruby resque-pool workers poll and record each job with several commands; rpd sends one script per ' +
    'job. A miss here means the built-in workers were starved of CPU during their window: see the row above.',
  pickup:
    'An idle built-in worker is woken by a Redis invalidation (client tracking) and then reserves: look for a ' +
    'worker whose tracking was off (a lost subscriber connection) or for slow jobs-module start-up.',
  'pickup-idle':
    'An idle worker should send one EXISTS per INTERVAL and its heartbeat: look for a loop that reserves ' +
    'without a wake (src/resque/worker.ts, work()).',
  'big-start':
    'Spawning 200 workers should take well under a second; look at what the master does per spawn.',
}

// Which of the three verdicts a tune workload missed, with the numbers behind it.
function explainTune(name, tune) {
  const run = tune.runs.find((r) => r.workload === name)
  if (!run) return 'The workload was not measured.'
  const v = run.verdict
  const parts = []
  if (!v.within)
    parts.push(
      `rpd chose ${run.tune.best} workers (${v.chosenRate?.toFixed(1) ?? 'n/a'} jobs/s in the sweep); the sweep's best was ${v.sweepBest} (${v.sweepBestRate.toFixed(1)} jobs/s). On a shared machine neighbouring counts on a plateau differ by the noise of one window; a longer --window narrows it.`,
    )
  if (!v.fewProbes) parts.push(`rpd used ${run.tune.probes.length} probes (the budget is 10).`)
  if (!v.fast)
    parts.push(
      `rpd took ${Math.round(run.tuneSeconds)} s against the sweep's ${Math.round(run.sweepSeconds)} s: with a range this short the search's probes are a large share of every count; a wider --max range favours the search.`,
    )
  return parts.join(' ')
}

export function explainMiss(id, { results }) {
  try {
    if ((id === 'start' || id === 'start-warm') && results.lifecycle) return explainStart(results)
    if (id === 'scale' && results.lifecycle) return explainScale(results)
    if (id === 'stop' && results.lifecycle) return explainStop(results)
    if (id === 'throughput' && results.throughput) return explainThroughput(results)
    if (id.startsWith('tune-') && results.tune) return explainTune(id.slice('tune-'.length), results.tune)
  } catch (error) {
    return `(could not analyse this figure: ${error.message})`
  }
  return GENERIC[id] ?? 'The figure was not measured: see the errors under "Every run".'
}

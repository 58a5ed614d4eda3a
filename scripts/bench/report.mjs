// Turns one run's measurements into docs/benchmarks.md: the table, the machine, how to reproduce, the method,
// every run's values, and for each missed target why and what would reach it.
import { STARTED_RULE } from './misses.mjs'
import fs from 'node:fs'
import path from 'node:path'
import { median } from './lib/measure.mjs'
import { BOOT_COMMANDS } from './figures/boot.mjs'
import { explainMiss } from './misses.mjs'
import { tuneRows, tuneSection } from './report-tune.mjs'
import { formatAutoscale } from './figures/autoscale.mjs'
import { autoscaleLiveRows, autoscaleLiveSection } from './report-autoscale-live.mjs'

const MB = 1e6

const ms = (v) =>
  !Number.isFinite(v) ? 'n/a' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`
const mb = (v) => (Number.isFinite(v) ? `${(v / MB).toFixed(1)} MB` : 'n/a')
const pct = (v) => (Number.isFinite(v) ? `${v.toFixed(3)} %` : 'n/a')
const rate = (v) => (Number.isFinite(v) ? `${Math.round(v).toLocaleString('en-US')} jobs/s` : 'n/a')
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '—')
const list = (values, format) => values.map(format).join(', ')
const spread = (values, format) =>
  values.length ? `${format(Math.min(...values))} – ${format(Math.max(...values))}` : 'n/a'

const msFine = (v) => (Number.isFinite(v) ? `${v.toFixed(v < 10 ? 2 : 0)} ms` : 'n/a')
const perSecond = (v) => (Number.isFinite(v) ? `${v.toFixed(2)}/s` : 'n/a')

// Nearest-rank percentile.
function percentile(values, p) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

// What a pool polling one queue at INTERVAL sends: one pop per worker per INTERVAL, and Resque's heartbeat
// (TIME and HSET) per worker per minute.
function pollingRate({ workers, intervalS }) {
  return workers / intervalS + (workers * 2) / 60
}

function pick(runs, key) {
  return (runs ?? []).map((run) => run[key]).filter((v) => Number.isFinite(v))
}

// One table row per figure; `met` is true, false, or undefined for rows shown without a target.
function buildRows({ results, errors }) {
  const rows = []
  // A figure that failed counts as missed; one left out with BENCH_ONLY is only marked as not run.
  const absent = (id, figure, name) => ({
    id,
    figure,
    rpd: errors[name] ? `failed: ${errors[name]}` : 'not run',
    met: errors[name] ? false : undefined,
  })
  const { lifecycle, survival, bigPool, throughput, idle } = results

  if (idle) {
    const status = idle.status
    const rpd = median(status.rpd)
    const node = median(status.node)
    const pm2 = median(status.pm2)
    rows.push({
      id: 'status-node',
      figure: '`rpd status --json` wall time (8 workers)',
      rpd: ms(rpd),
      peer: `${ms(node)} (\`node -e 0\`)`,
      ratio: ratio(rpd, node),
      target: '≤ 2.5× `node -e 0`',
      met: rpd / node <= 2.5,
    })
    rows.push({
      id: 'status-pm2',
      figure: '`rpd status --json` wall time (8 workers)',
      rpd: ms(rpd),
      peer: `${ms(pm2)} (\`pm2 jlist\`, 8 processes)`,
      ratio: ratio(rpd, pm2),
      target: 'below `pm2 jlist`',
      met: rpd < pm2,
    })
  } else {
    rows.push(absent('status-node', '`rpd status --json` wall time', 'idle'))
  }

  if (lifecycle) {
    const start = median(pick(lifecycle.rpd, 'startMs'))
    const cold = median(pick(lifecycle.pm2, 'startMs'))
    const warm = median(pick(lifecycle.pm2Warm, 'startMs'))
    rows.push({
      id: 'start',
      figure: '`rpd start foo=8` until all 8 started',
      rpd: ms(start),
      peer: `${ms(cold)} (\`pm2 start\`, fork mode, 8 instances, daemon not yet running)`,
      ratio: ratio(start, cold),
      target: 'faster than PM2',
      met: start < cold,
    })
    rows.push({
      id: 'start-warm',
      figure: '`rpd start foo=8` until all 8 started, PM2 daemon already running',
      rpd: ms(start),
      peer: `${ms(warm)} (\`pm2 start\`, daemon up)`,
      ratio: ratio(start, warm),
      target: 'at most PM2 with its daemon up',
      met: start <= warm,
    })
    const scale = median(pick(lifecycle.rpd, 'scaleMs'))
    const pm2Scale = median(pick(lifecycle.pm2, 'scaleMs'))
    rows.push({
      id: 'scale',
      figure: '`rpd scale foo=+8` until all 16 started',
      rpd: ms(scale),
      peer: `${ms(pm2Scale)} (\`pm2 scale app +8\`)`,
      ratio: ratio(scale, pm2Scale),
      target: '≤ 0.8× `pm2 scale`',
      met: scale <= 0.8 * pm2Scale,
    })
  } else {
    rows.push(absent('start', '`rpd start` / `scale` / `stop`, master RSS', 'lifecycle'))
  }

  if (survival) {
    const kept = survival.map((run) => run.kept)
    const of = survival[0]?.of ?? 5
    rows.push({
      id: 'survival',
      figure: 'workers of foo surviving two scales of bar',
      rpd: `${median(kept)} of ${of} (worst run ${Math.min(...kept)})`,
      peer: `0 of ${of} (resque-pool restarts all on HUP; quoted from the issue, not measured)`,
      ratio: '—',
      target: 'all of them',
      met: kept.length > 0 && Math.min(...kept) === of,
    })
  } else {
    rows.push(absent('survival', 'workers surviving a scale of another group', 'survival'))
  }

  if (lifecycle) {
    const stop = median(pick(lifecycle.rpd, 'stopMs'))
    const pm2Stop = median(pick(lifecycle.pm2, 'stopMs'))
    rows.push({
      id: 'stop',
      figure: '`rpd stop` of 8 idle workers until all gone',
      rpd: ms(stop),
      peer: `${ms(pm2Stop)} (\`pm2 delete app\`)`,
      ratio: ratio(stop, pm2Stop),
      target: 'faster than PM2',
      met: stop < pm2Stop,
    })
    const rss = median(pick(lifecycle.rpd, 'rss'))
    const pm2Rss = median(pick(lifecycle.pm2, 'rss'))
    rows.push({
      id: 'rss',
      figure: 'master RSS with 8 workers',
      rpd: mb(rss),
      peer: `${mb(pm2Rss)} (PM2 daemon)`,
      ratio: ratio(rss, pm2Rss),
      target: '≤ 60 MB',
      met: rss <= 60 * MB,
    })
  }

  if (idle) {
    rows.push({
      id: 'idle-cpu',
      figure: `master CPU while idle, 8 workers (${Math.round(idle.seconds)} s, 1 window)`,
      rpd: pct(idle.idle.rpd8.cpuPct),
      peer: `${pct(idle.idle.pm2.cpuPct)} (PM2 daemon, same window)`,
      ratio: '—',
      target: '< 0.5 %',
      met: idle.idle.rpd8.cpuPct < 0.5,
    })
  } else {
    rows.push(absent('idle-cpu', 'master CPU while idle', 'idle'))
  }

  if (bigPool) {
    const start = median(pick(bigPool, 'startMs'))
    rows.push({
      id: 'big-start',
      figure: '200 workers: `rpd start foo=200` until all started',
      rpd: ms(start),
      peer: '—',
      ratio: '—',
      target: '< 10 s',
      met: start < 10_000,
    })
  } else {
    rows.push(absent('big-start', '200 workers: all started', 'bigPool'))
  }
  if (idle) {
    rows.push({
      id: 'big-idle',
      figure: `200 workers: master CPU while idle (${Math.round(idle.seconds)} s, 1 window)`,
      rpd: pct(idle.idle.rpd200.cpuPct),
      peer: '—',
      ratio: '—',
      target: '< 1 %',
      met: idle.idle.rpd200.cpuPct < 1,
    })
  }

  if (throughput) {
    const rpd = median(pick(throughput.rpd, 'rate'))
    const peer = median(pick(throughput.multiWorker, 'rate'))
    const ruby = median(pick(throughput.ruby, 'rate'))
    const limit = median(pick(throughput.limit, 'rate'))
    rows.push({
      id: 'throughput',
      figure: 'no-op job throughput, 4 built-in workers',
      rpd: rate(rpd),
      peer: `${rate(peer)} (node-resque MultiWorker, 4 task processors, one process)`,
      ratio: ratio(rpd, peer),
      target: '≥ 2× MultiWorker',
      met: rpd >= 2 * peer,
    })
    rows.push({
      id: 'throughput-ruby',
      figure: 'no-op job throughput, 4 built-in workers',
      rpd: rate(rpd),
      peer: throughput.rubyMissing
        ? `not run: ${throughput.rubyMissing}`
        : `${rate(ruby)} (Ruby resque-pool, 4 workers, FORK_PER_JOB=false, same INTERVAL)`,
      ratio: ratio(rpd, ruby),
      target: '≥ 2× resque-pool',
      met: throughput.rubyMissing ? undefined : rpd >= 2 * ruby,
    })
    rows.push({
      id: 'throughput-limit',
      figure: '… as a fraction of the physical limit',
      rpd: rate(rpd),
      peer: `${rate(limit)} (one client running the per-job script, ${throughput.limitInFlight ?? 64} in flight)`,
      ratio: ratio(rpd, limit),
      target: '(shown for context)',
      met: undefined,
    })
  } else {
    rows.push(absent('throughput', 'no-op job throughput, 4 built-in workers', 'throughput'))
  }

  if (results.pickup) {
    const { rpd, ruby } = results.pickup
    const all = [...rpd.latencies.rpd, ...rpd.latencies.ruby]
    const p50 = percentile(all, 50)
    const p99 = percentile(all, 99)
    const rubyLatency = ruby ? median([...ruby.latencies.ruby]) : NaN
    rows.push({
      id: 'pickup',
      figure: `pickup latency, idle pool, INTERVAL ${results.pickup.intervalS} s (${all.length} single jobs, p50 / p99)`,
      rpd: `${msFine(p50)} / ${msFine(p99)}`,
      peer: ruby
        ? `${msFine(rubyLatency)} median (Ruby resque-pool, ${ruby.latencies.ruby.length} jobs)`
        : `not run: ${results.pickup.rubyMissing}`,
      ratio: ratio(p50, rubyLatency),
      target: 'p50 ≤ 5 ms, p99 ≤ 50 ms',
      met: p50 <= 5 && p99 <= 50,
    })
    const polling = pollingRate(results.pickup)
    rows.push({
      id: 'pickup-idle',
      figure: `Redis commands/s of the idle pool (${results.pickup.workers} workers, ${results.pickup.idleSeconds} s)`,
      rpd: perSecond(rpd.idleCommandsPerSecond),
      peer: ruby
        ? `${perSecond(ruby.idleCommandsPerSecond)} (Ruby resque-pool polling, same INTERVAL)`
        : `${perSecond(polling)} (polling one queue at INTERVAL, with heartbeats)`,
      ratio: ratio(rpd.idleCommandsPerSecond, ruby ? ruby.idleCommandsPerSecond : polling),
      target: 'no more than polling',
      met: rpd.idleCommandsPerSecond <= (ruby ? ruby.idleCommandsPerSecond : polling),
    })
  } else {
    rows.push(absent('pickup', 'pickup latency, idle pool', 'pickup'))
  }
  if (results.tune) rows.push(...tuneRows(results.tune))
  else rows.push(absent('tune', '`rpd tune` against a sweep of every count', 'tune'))
  if (results.autoscaleLive) rows.push(...autoscaleLiveRows(results.autoscaleLive))
  else
    rows.push(absent('autoscale-live', 'autoscaling a real pool: idle groups, a 10× burst', 'autoscaleLive'))
  if (results.budget) {
    const { budget, runs } = results.budget
    const moved = median(pick(runs, 'movedS'))
    const most = Math.max(...pick(runs, 'most'))
    rows.push({
      id: 'budget-move',
      figure: `shared budget (\`--max-total ${budget}\`): a bursting group has half of an idle group's ${budget} workers`,
      rpd: `${moved.toFixed(2)} s after the burst`,
      peer: '—',
      ratio: '—',
      target: '≤ 5 s',
      met: moved <= 5,
    })
    rows.push({
      id: 'budget-most',
      figure: '… most live workers of the pool at any 50 ms sample (every run)',
      rpd: String(most),
      peer: '—',
      ratio: '—',
      target: `≤ ${budget}`,
      met: most <= budget,
    })
  } else rows.push(absent('budget-move', 'shared budget: idle workers moved to a burst', 'budget'))
  return rows
}

function table(rows) {
  const lines = [
    '| figure | rpd (median) | peer / baseline (median) | ratio rpd ÷ peer | target | met? |',
    '| --- | --- | --- | --- | --- | --- |',
  ]
  for (const row of rows) {
    const met = row.met === undefined ? '—' : row.met ? 'yes' : '**no**'
    lines.push(
      `| ${row.figure} | ${row.rpd} | ${row.peer ?? '—'} | ${row.ratio ?? '—'} | ${row.target ?? '—'} | ${met} |`,
    )
  }
  return lines
}

function machineSection(machine) {
  const load = (l) => l.map((v) => v.toFixed(2)).join(' / ')
  return [
    '## Machine',
    '',
    `- CPU: ${machine.cpus} × ${machine.model} (\`nproc\`: ${machine.cpus})`,
    `- memory: ${machine.memoryGiB.toFixed(1)} GiB; kernel: ${machine.kernel}`,
    `- Node ${machine.node}; redis-server ${machine.redis ?? 'unknown'}; pm2 ${machine.pm2 ?? 'unknown'}; node-resque ${machine.nodeResque ?? 'unknown'}`,
    `- rpd at commit ${machine.rpd}`,
    `- load average (1, 5, 15 min) before: ${load(machine.loadBefore)}, after: ${load(machine.loadAfter)}. ` +
      'Other work on the machine makes every figure noisier; the ratios compare runs interleaved in the same ' +
      'minutes, so they are steadier than the absolute times.',
  ]
}

function reproduceSection(ctx) {
  return [
    '## How to reproduce',
    '',
    'On Linux (the figures read `/proc`), with `redis-server` on the PATH (`apt-get install -y redis-server`):',
    '',
    '    npm ci',
    `    npm run bench                 # builds, measures everything (a few minutes), rewrites docs/benchmarks.md`,
    '    BENCH_QUICK=1 BENCH_OUT=/tmp/bench.md npm run bench    # a short trial run, written elsewhere',
    '',
    `This run: ${ctx.runs} runs per figure, ${ctx.statusRounds} rounds of status calls, an idle window of ` +
      `${Math.round(ctx.idleSeconds)} s, ${ctx.jobs.toLocaleString('en-US')} jobs per throughput run` +
      (ctx.pickupJobs ? `, ${ctx.pickupJobs} single jobs for pickup` : '') +
      '. Ruby peers need Ruby Resque and resque-pool on `RUBYLIB` (`eval "$(bash ../shared/ruby/setup.sh)"`). ' +
      '`BENCH_RUNS`, `BENCH_IDLE_S`, `BENCH_JOBS` change these; `BENCH_ONLY=boot,lifecycle,survival,bigPool,throughput,pickup,idle,tune,autoscale,autoscaleLive,budget` ' +
      'runs some figures only. Everything runs in a temporary directory: private state directories, a private ' +
      '`PM2_HOME` (PM2 version checks off), a private `redis-server` on a free loopback port; every pool, daemon ' +
      'and server is stopped after its run, also when the benchmark is interrupted.',
    '',
    'A cross-check of the status figure with hyperfine, against a pool you started yourself:',
    '',
    "    hyperfine -N --warmup 3 'node -e 0' 'node bin/run.js status --json --state-dir DIR'",
  ]
}

function methodSection(ctx) {
  return [
    '## Method',
    '',
    '- **Workers.** rpd and PM2 run the same script, `scripts/bench/fixtures/idle-worker.sh`: bash waiting on ' +
      'one `sleep` child (no polling), exiting on QUIT, INT or TERM after reaping that child. rpd runs it as ' +
      '`--command "bash \'idle-worker.sh\'"` (the process ends up as `bash idle-worker.sh`), PM2 from an ' +
      'ecosystem file with `interpreter: bash`, `exec_mode: fork`, `instances: 8`, `vizion: false`, defaults ' +
      "otherwise (autorestart on). `pm2 start -i 8` alone would give fork mode too for a shell script (PM2's " +
      '`-i` means cluster mode only for Node scripts); the file says so explicitly.',
    '- **Started** means the same for both tools: the CLI call has returned and N children of the master (of ' +
      "PM2's daemon) have exec'd into the script, read from `/proc/PID/task/*/children` and `/proc/PID/cmdline`. " +
      `rpd's \`start\` and \`scale\` return only once each new worker has started (${STARTED_RULE}; a command ` +
      'that cannot run is reported instead); PM2 returns once it has spawned them. The notes below give when ' +
      'the processes first existed, for both.',
    '- **Gone** means every process below the master or daemon when the call was made has exited (pid and ' +
      'start time no longer match a live process); for rpd also the master, which `rpd stop` ends while `pm2 ' +
      "delete` leaves PM2's daemon up.",
    "- **PM2 start** is measured cold (the call starts PM2's daemon, as `rpd start` starts its master) and, " +
      'for context, with the daemon already running. Each PM2 run uses a fresh `PM2_HOME` and ends with `pm2 kill`.',
    '- **RSS** is VmRSS of the master (of the PM2 daemon) 1 s after all 8 workers started. **Idle CPU** is ' +
      `utime + stime from \`/proc/PID/stat\` over one window of ${Math.round(ctx.idleSeconds)} s (a single run, ` +
      'not a median), 3 s after start-up, with an 8-worker rpd pool, an 8-process PM2 and a 200-worker rpd pool ' +
      'all idle at once.',
    '- **Status** calls are timed from spawn to exit, the four commands in rotating order, after 2 warm-up ' +
      `rounds, ${ctx.statusRounds} rounds, against the idle pools above; \`pm2 jlist\` talks to a daemon with 8 ` +
      'processes.',
    '- **Survival**: `rpd start foo=5 bar=5`, `rpd scale bar=+3`, `rpd scale bar=-4`, then the foo workers ' +
      'whose pid and start time still match.',
    '- **Throughput**: both tools poll an empty queue (every 50 ms: `INTERVAL=0.05` for rpd, ' +
      '`timeout: 50` for node-resque) before the jobs are pushed in one pipeline; the rate is read from `LLEN` ' +
      'between 90 % and 10 % of the jobs left. Each run checks that `resque:stat:processed` reached the count ' +
      'and no job failed. MultiWorker runs in its own Node process with `minTaskProcessors = ' +
      'maxTaskProcessors = 4`.',
    '- **Throughput peers and limit.** Ruby resque-pool runs `scripts/bench/fixtures/ruby/Rakefile` with ' +
      '`FORK_PER_JOB=false` and `INTERVAL=0.05`, 4 workers of the queue; it is skipped (and says why) where Ruby ' +
      'Resque cannot be loaded (`RUBYLIB`, see ../shared/ruby/setup.sh). The limit is one ioredis client running ' +
      "the built-in worker's own per-job script (`WorkerRegistry.advance`, from dist/) against the full queue.",
    '- **Pickup**: an rpd pool of 4 built-in workers at the default INTERVAL (5 s) waits idle; one job at a ' +
      "time is enqueued, alternately by `rpd enqueue`'s library call (`enqueueJobs`, given one open connection) and " +
      'by a Ruby process calling `Resque.enqueue`; the job stamps the time its perform begins. Latency is that ' +
      'stamp minus the time taken just before the enqueue call (same host, realtime clock); 10–30 ms pass ' +
      'between jobs. Idle commands/s are the INFO commandstats delta over a window with no jobs. The same for ' +
      'Ruby resque-pool (4 workers, INTERVAL=5) with a few jobs.',
    '- Runs alternate which tool goes first. Ratios are rpd ÷ peer: below 1 is better for times and memory, ' +
      'above 1 is better for throughput.',
  ]
}

function notesSection({ results }) {
  const { lifecycle, bigPool, throughput, idle, boot } = results
  const lines = ['## Notes on this run', '']
  if (boot) {
    const node = median(boot.node)
    const costs = Object.entries(BOOT_COMMANDS)
      .filter(([name]) => name !== 'node')
      .map(([name, { label }]) => `${label} ${ms(median(boot[name]))} (+${ms(median(boot[name]) - node)})`)
    lines.push(
      `- Start-up costs, each in a fresh process (medians): \`node -e 0\` ${ms(node)}; ${costs.join('; ')}.`,
    )
  }
  if (lifecycle) {
    lines.push(
      `- Worker processes first all existed (median): rpd start ${ms(median(pick(lifecycle.rpd, 'visibleMs')))} ` +
        `of ${ms(median(pick(lifecycle.rpd, 'startMs')))}, PM2 cold start ${ms(median(pick(lifecycle.pm2, 'visibleMs')))} ` +
        `of ${ms(median(pick(lifecycle.pm2, 'startMs')))}, PM2 warm start ${ms(median(pick(lifecycle.pm2Warm, 'visibleMs')))} ` +
        `of ${ms(median(pick(lifecycle.pm2Warm, 'startMs')))}. The rest of rpd's time is telling that each worker has started.`,
    )
  }
  if (bigPool) {
    lines.push(
      `- 200 workers: all processes existed after ${ms(median(pick(bigPool, 'visibleMs')))} (median); ` +
        `\`rpd stop\` until all 400 processes (200 workers and their sleep children) and the master were gone: ` +
        `${ms(median(pick(bigPool, 'stopMs')))}.`,
    )
  }
  if (idle) {
    const i = idle.idle
    lines.push(
      `- Idle window of ${idle.seconds.toFixed(1)} s: CPU ticks used (1 tick = 1/${idle.clockTicks} s): rpd 8 ` +
        `workers ${i.rpd8.ticks}, PM2 daemon ${i.pm2.ticks}, rpd 200 workers ${i.rpd200.ticks}. RSS at the end: ` +
        `rpd 8 workers ${mb(i.rpd8.rss)}, PM2 daemon ${mb(i.pm2.rss)}, rpd 200 workers ${mb(i.rpd200.rss)}; ` +
        `${idle.workersStill} of 200 workers still running.`,
    )
    lines.push(
      `- Status with 200 workers: \`rpd status --json\` ${ms(median(idle.status.rpd200))} (median), ` +
        `${ratio(median(idle.status.rpd200), median(idle.status.node))} \`node -e 0\`.`,
    )
  }
  if (throughput) {
    lines.push(
      `- During the throughput window the rpd master used ${pct(median(pick(throughput.rpd, 'masterCpuPct')))} ` +
        `of one core and its 4 workers ${pct(median(pick(throughput.rpd, 'workersCpuPct')))} together (medians); ` +
        `the MultiWorker process used ${pct(median(pick(throughput.multiWorker, 'cpuPct')))}. The rpd master ` +
        `rewrote status.json ${Math.round(median(pick(throughput.rpd, 'statusWritesPerSecond')))} times a second.` +
        (throughput.ruby?.length
          ? ` resque-pool (master and workers) used ${pct(median(pick(throughput.ruby, 'cpuPct')))}.`
          : ''),
    )
    lines.push(
      `- Each built-in worker sends one script per job (the end of the last job and the reserve of the next). ` +
        `The limit, one client sending only that script with ${throughput.limitInFlight ?? 64} in flight, ran ` +
        `${rate(median(pick(throughput.limit, 'rate')))}; the same client with one in flight (a single worker doing ` +
        `nothing but its round trips) ${rate(median(pick(throughput.limitOne, 'rate')))}.`,
    )
    const warmRpd = median(pick(throughput.rpd, 'warmRate'))
    const warmPeer = median(pick(throughput.multiWorker, 'warmRate'))
    if (Number.isFinite(warmRpd) && Number.isFinite(warmPeer))
      lines.push(
        `- The figure is taken on fresh workers, as a pool just started (or scaled up for a burst) has them. The ` +
          `same number of jobs again on the same, now warm, workers: rpd ${rate(warmRpd)}, MultiWorker ` +
          `${rate(warmPeer)} (${ratio(warmRpd, warmPeer)}; medians).`,
      )
  }
  if (results.pickup) {
    const { rpd, ruby } = results.pickup
    const by = (values) =>
      `p50 ${msFine(percentile(values, 50))}, p99 ${msFine(percentile(values, 99))}, max ${msFine(Math.max(...values))}`
    lines.push(
      `- Pickup, by enqueuer: \`rpd enqueue\` (its library call) ${rpd.latencies.rpd.length} jobs ` +
        `${by(rpd.latencies.rpd)}` +
        (rpd.latencies.ruby.length
          ? `; Ruby \`Resque.enqueue\` ${rpd.latencies.ruby.length} jobs ${by(rpd.latencies.ruby)}`
          : '') +
        (ruby ? `. Ruby resque-pool at the same INTERVAL: ${by(ruby.latencies.ruby)}.` : '.'),
    )
  }
  return lines
}

function runsSection({ results, errors }) {
  const { lifecycle, survival, bigPool, throughput, idle, boot } = results
  const lines = ['## Every run', '', 'Values in run order (min – max after the colon).', '']
  const row = (label, values, format) =>
    lines.push(`- ${label}: ${list(values, format)} (${spread(values, format)})`)
  if (boot)
    for (const [name, { label }] of Object.entries(BOOT_COMMANDS)) row(`start-up: ${label}`, boot[name], ms)
  if (idle) {
    row('status figure: `node -e 0`', idle.status.node, ms)
    row('status figure: `rpd status --json`, 8 workers', idle.status.rpd, ms)
    row('status figure: `pm2 jlist`, 8 processes', idle.status.pm2, ms)
    row('status figure: `rpd status --json`, 200 workers', idle.status.rpd200, ms)
  }
  if (lifecycle) {
    row('rpd start 8', pick(lifecycle.rpd, 'startMs'), ms)
    row('pm2 start 8, cold', pick(lifecycle.pm2, 'startMs'), ms)
    row('pm2 start 8, daemon up', pick(lifecycle.pm2Warm, 'startMs'), ms)
    row('rpd scale +8', pick(lifecycle.rpd, 'scaleMs'), ms)
    row('pm2 scale +8', pick(lifecycle.pm2, 'scaleMs'), ms)
    row('rpd stop 8', pick(lifecycle.rpd, 'stopMs'), ms)
    row('pm2 delete 8', pick(lifecycle.pm2, 'stopMs'), ms)
    row('rpd master RSS', pick(lifecycle.rpd, 'rss'), mb)
    row('PM2 daemon RSS', pick(lifecycle.pm2, 'rss'), mb)
  }
  if (survival) lines.push(`- foo workers kept: ${survival.map((r) => `${r.kept}/${r.of}`).join(', ')}`)
  if (bigPool) {
    row('rpd start 200', pick(bigPool, 'startMs'), ms)
    row('rpd stop 200', pick(bigPool, 'stopMs'), ms)
  }
  if (throughput) {
    row('rpd, 4 built-in workers', pick(throughput.rpd, 'rate'), rate)
    row('node-resque MultiWorker, 4 task processors', pick(throughput.multiWorker, 'rate'), rate)
    row('rpd, the same workers warm (second batch)', pick(throughput.rpd, 'warmRate'), rate)
    row('MultiWorker, warm (second batch)', pick(throughput.multiWorker, 'warmRate'), rate)
    if (throughput.ruby?.length) row('Ruby resque-pool, 4 workers', pick(throughput.ruby, 'rate'), rate)
    row('limit: the per-job script, one client', pick(throughput.limit, 'rate'), rate)
    row('the same, one at a time', pick(throughput.limitOne, 'rate'), rate)
  }
  if (results.pickup) {
    const { rpd, ruby } = results.pickup
    row('pickup, rpd pool, all jobs', [...rpd.latencies.rpd, ...rpd.latencies.ruby], msFine)
    if (ruby) row('pickup, Ruby resque-pool', ruby.latencies.ruby, msFine)
  }
  if (results.budget) {
    row(
      'shared budget: seconds until half moved',
      pick(results.budget.runs, 'movedS'),
      (v) => `${v.toFixed(2)} s`,
    )
    row('shared budget: most live workers', pick(results.budget.runs, 'most'), String)
  }
  for (const [name, message] of Object.entries(errors)) lines.push(`- ${name} failed: ${message}`)
  return lines
}

function missesSection(rows, data) {
  const missed = rows.filter((row) => row.met === false)
  if (missed.length === 0) return ['## Missed targets', '', 'None in this run.']
  const lines = ['## Missed targets', '']
  for (const row of missed) {
    lines.push(`### ${row.figure}: ${row.rpd}, target ${row.target ?? 'n/a'}`, '')
    lines.push(explainMiss(row.id, data), '')
  }
  return lines
}

export function writeReport(file, data) {
  const rows = buildRows(data)
  const when = data.startedAt
    .toISOString()
    .replace('T', ' ')
    .replace(/:\d\d\.\d+Z$/, ' UTC')
  const minutes = ((data.finishedAt - data.startedAt) / 60_000).toFixed(1)
  const lines = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` (\`scripts/bench/run.mjs\`) on ${when}, in ${minutes} min; do not edit by hand, ` +
      'run it again. Medians of the runs listed under "Every run"; each peer was measured in the same run.',
    '',
    ...(data.ctx.quick
      ? [
          '**Quick trial run (`BENCH_QUICK=1`): fewer runs and a short idle window; not the reference figures.**',
          '',
        ]
      : []),
    ...table(rows),
    '',
    ...machineSection(data.machine),
    '',
    ...reproduceSection(data.ctx),
    '',
    ...methodSection(data.ctx),
    '',
    ...notesSection(data),
    '',
    ...tuneSection(data),
    ...(data.results.autoscale
      ? [
          '## Autoscaling (simulated)',
          '',
          "The same seeded workloads through rpd's policy (`src/autoscale/policy.ts`, the code the master runs) and",
          'through models of the policies users have today (`src/autoscale/peers.ts`), time-compressed in a',
          'discrete-event simulator (`src/autoscale/simulate.ts`). A simulation, not a measured pool; a real',
          'pool meets a burst in the next section.',
          '',
          ...formatAutoscale(data.results.autoscale),
          '',
        ]
      : []),
    ...autoscaleLiveSection(data),
    ...(data.results.budget
      ? [
          '## Shared budget (a real pool)',
          '',
          `\`rpd start quiet=0..4 peak=0..4 --max-total 4\` with built-in workers and real Redis. 40 jobs of 250 ms`,
          'into `quiet` make it take the whole budget; once drained, its 4 workers sit idle inside their down',
          'window. Then 200 jobs go into `peak`. Measured from that enqueue: when `peak` first has 2 live workers',
          "(half of quiet's idle ones moved), and the most live workers of the pool at any 50 ms sample over the",
          'whole run, counted from /proc by the `QUEUE` each worker was started with.',
          '',
        ]
      : []),
    ...missesSection(rows, data),
    '',
    ...runsSection(data),
    '',
  ]
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, lines.join('\n'))
}

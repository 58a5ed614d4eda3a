// start 8 workers, scale +8, stop 8 idle workers, and the supervisor's RSS: rpd against PM2 (fork mode), the same
// idle script under both. "Started" means the same for both: the CLI call has returned and N children of the
// master (PM2: of its daemon) have exec'd into the script. "Gone" means every process below the master or
// daemon, and rpd's master itself (rpd stop ends it; pm2 delete leaves PM2's daemon up), has exited.
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { childrenOf, descendants, identityOf, rssBytes, runningWorkers, waitFor } from '../lib/proc.mjs'
import { IDLE_WORKER, Pm2, Rpd, waitGone } from '../lib/tools.mjs'
import { watchFirst } from '../lib/watch.mjs'
import { performance } from 'node:perf_hooks'

const WORKERS = 8
// RSS is read this long after all workers started, once start-up garbage has had a chance to go.
const RSS_SETTLE_MS = 1_000

const exactly = (pid, n) => () => {
  const children = childrenOf(pid)
  return children.length === n && runningWorkers(pid, IDLE_WORKER).length === n
}
const atLeast = (pid, n) => () => pid !== undefined && runningWorkers(pid, IDLE_WORKER).length >= n

// Times an action until it has returned and condition() holds; also notes when condition() first held.
async function timeUntil(action, condition, what) {
  const visible = watchFirst(condition)
  const started = performance.now()
  await action()
  await waitFor(condition, { what, timeoutMs: 60_000 })
  const ms = performance.now() - started
  return { ms, visibleMs: visible.stop() }
}

// When the master says each phase happened, from its own timestamps (status.json, master.log), in ms after wall0.
function phasesOfStart(rpd, wall0) {
  const status = rpd.status()
  const spawned = status.workers.map((w) => Date.parse(w.startedAt) - wall0)
  return {
    masterUpMs: Date.parse(status.startedAt) - wall0,
    firstSpawnMs: Math.min(...spawned),
    lastSpawnMs: Math.max(...spawned),
    appliedMs: Date.parse(status.updatedAt) - wall0,
  }
}

function phasesOfScale(rpd, wall0) {
  const status = rpd.status()
  const spawned = status.workers.map((w) => Date.parse(w.startedAt) - wall0).filter((ms) => ms >= 0)
  return {
    firstSpawnMs: Math.min(...spawned),
    lastSpawnMs: Math.max(...spawned),
    appliedMs: Date.parse(status.updatedAt) - wall0,
  }
}

function masterFinishedMs(rpd, wall0) {
  const line = rpd.logLines().findLast((l) => l.includes(': manager finished'))
  return line ? Date.parse(line.slice(0, line.indexOf(' '))) - wall0 : NaN
}

async function runRpd(dir, sample) {
  const rpd = new Rpd(dir)
  try {
    let wall0 = Date.now()
    const start = await timeUntil(
      () => rpd.start([`foo=${WORKERS}`]),
      () => atLeast(rpd.masterPid(), WORKERS)(),
      `rpd's ${WORKERS} workers`,
    )
    const startPhases = phasesOfStart(rpd, wall0)
    const master = rpd.masterPid()
    await sleep(RSS_SETTLE_MS)
    const rss = rssBytes(master)
    wall0 = Date.now()
    const scale = await timeUntil(
      () => rpd.scale([`foo=+${WORKERS}`]),
      atLeast(master, 2 * WORKERS),
      `rpd's ${2 * WORKERS} workers`,
    )
    const scalePhases = phasesOfScale(rpd, wall0)
    await rpd.scale([`foo=-${WORKERS}`])
    await waitFor(exactly(master, WORKERS), { what: `rpd back to ${WORKERS} workers`, timeoutMs: 30_000 })
    const left = [identityOf(master), ...descendants(master)].filter(Boolean)
    wall0 = Date.now()
    const stopStarted = performance.now()
    const stopCall = await rpd.stop()
    await waitGone(left, "rpd's master and workers to exit")
    const stopMs = performance.now() - stopStarted
    sample.rpd.push({
      startMs: start.ms,
      visibleMs: start.visibleMs,
      rss,
      scaleMs: scale.ms,
      stopMs,
      start: startPhases,
      scale: scalePhases,
      stop: { masterFinishedMs: masterFinishedMs(rpd, wall0), returnedMs: stopCall.ms },
    })
  } finally {
    await rpd.dispose()
  }
}

async function runPm2Cold(home, sample) {
  const pm2 = new Pm2(home)
  try {
    const ecosystem = pm2.writeEcosystem('app', WORKERS)
    const start = await timeUntil(
      () => pm2.cli(['start', ecosystem]),
      () => atLeast(pm2.daemonPid(), WORKERS)(),
      `PM2's ${WORKERS} processes`,
    )
    const daemon = pm2.daemonPid()
    await sleep(RSS_SETTLE_MS)
    const rss = rssBytes(daemon)
    const scale = await timeUntil(
      () => pm2.cli(['scale', 'app', `+${WORKERS}`]),
      atLeast(daemon, 2 * WORKERS),
      `PM2's ${2 * WORKERS} processes`,
    )
    await pm2.cli(['scale', 'app', String(WORKERS)])
    await waitFor(exactly(daemon, WORKERS), { what: `PM2 back to ${WORKERS} processes`, timeoutMs: 30_000 })
    const left = descendants(daemon)
    const stopStarted = performance.now()
    await pm2.cli(['delete', 'app'])
    await waitGone(left, "PM2's processes to exit")
    const stopMs = performance.now() - stopStarted
    sample.pm2.push({ startMs: start.ms, visibleMs: start.visibleMs, rss, scaleMs: scale.ms, stopMs })
  } finally {
    await pm2.dispose()
  }
}

// pm2 start when its daemon already runs (the usual case once PM2 is in use): shown beside the cold figure.
async function runPm2Warm(home, sample) {
  const pm2 = new Pm2(home)
  try {
    await pm2.cli(['ping'])
    const daemon = await waitFor(() => pm2.daemonPid(), { what: 'the PM2 daemon' })
    const ecosystem = pm2.writeEcosystem('app', WORKERS)
    const start = await timeUntil(
      () => pm2.cli(['start', ecosystem]),
      atLeast(daemon, WORKERS),
      `PM2's ${WORKERS} processes`,
    )
    sample.pm2Warm.push({ startMs: start.ms, visibleMs: start.visibleMs })
  } finally {
    await pm2.dispose()
  }
}

export async function measureLifecycle(ctx) {
  const sample = { rpd: [], pm2: [], pm2Warm: [] }
  for (let i = 0; i < ctx.runs; i++) {
    // Alternate the order so that neither tool always runs right after the other's cleanup.
    const steps = [
      () => runRpd(path.join(ctx.tmp, `life-rpd-${i}`, 'state'), sample),
      () => runPm2Cold(path.join(ctx.tmp, `life-pm2-${i}`), sample),
      () => runPm2Warm(path.join(ctx.tmp, `life-pm2warm-${i}`), sample),
    ]
    if (i % 2) steps.reverse()
    for (const step of steps) await step()
    ctx.log(
      `lifecycle run ${i + 1}/${ctx.runs}: rpd start ${fmt(sample.rpd.at(-1).startMs)}, pm2 start ${fmt(sample.pm2.at(-1).startMs)} (warm ${fmt(sample.pm2Warm.at(-1).startMs)})`,
    )
  }
  return sample
}

const fmt = (ms) => `${Math.round(ms)} ms`

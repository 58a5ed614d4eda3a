// Idle pools side by side for one window: rpd with 8 workers, PM2's daemon with 8 processes and rpd with 200
// workers. CPU is utime+stime from /proc/PID/stat over the window, RSS is VmRSS at its end. Then, against the
// same running pools, the wall time of `rpd status --json` beside `node -e 0` and `pm2 jlist`.
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { run } from '../lib/measure.mjs'
import { CLK_TCK, cpuTicks, rssBytes, runningWorkers, waitFor } from '../lib/proc.mjs'
import { IDLE_WORKER, PM2_BIN, Pm2, RPD_BIN, Rpd } from '../lib/tools.mjs'
import { performance } from 'node:perf_hooks'

// Lets start-up work (PM2's first metrics pass, garbage collection) finish before the window opens.
const SETTLE_MS = 3_000
const STATUS_WARMUP_ROUNDS = 2

function cpuPercent(before, after, seconds) {
  return ((after - before) / CLK_TCK / seconds) * 100
}

async function timeStatus(ctx, commands) {
  const times = Object.fromEntries(Object.keys(commands).map((name) => [name, []]))
  const names = Object.keys(commands)
  for (let round = 0; round < STATUS_WARMUP_ROUNDS + ctx.statusRounds; round++) {
    // Rotate the order each round so that no command always follows the same one.
    const order = names.map((_, i) => names[(i + round) % names.length])
    for (const name of order) {
      const { argv, env } = commands[name]
      const { ms } = await run(argv, { env })
      if (round >= STATUS_WARMUP_ROUNDS) times[name].push(ms)
    }
  }
  return times
}

export async function measureIdle(ctx) {
  const rpd8 = new Rpd(path.join(ctx.tmp, 'idle-rpd8', 'state'))
  const rpd200 = new Rpd(path.join(ctx.tmp, 'idle-rpd200', 'state'))
  const pm2 = new Pm2(path.join(ctx.tmp, 'idle-pm2'))
  try {
    await rpd8.start(['foo=8'])
    await pm2.cli(['start', pm2.writeEcosystem('app', 8)])
    await rpd200.start(['foo=200'])
    const pids = { rpd8: rpd8.masterPid(), pm2: pm2.daemonPid(), rpd200: rpd200.masterPid() }
    await waitFor(() => runningWorkers(pids.pm2, IDLE_WORKER).length === 8, { what: "PM2's 8 processes" })
    await sleep(SETTLE_MS)
    const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuTicks(pid)]))
    const opened = performance.now()
    ctx.log(`idle: watching 3 idle supervisors for ${ctx.idleSeconds} s`)
    await sleep(ctx.idleSeconds * 1000)
    const seconds = (performance.now() - opened) / 1000
    const idle = {}
    for (const [name, pid] of Object.entries(pids)) {
      const after = cpuTicks(pid)
      if (after === undefined) throw new Error(`${name} (pid ${pid}) died during the idle window`)
      idle[name] = {
        cpuPct: cpuPercent(before[name], after, seconds),
        rss: rssBytes(pid),
        ticks: after - before[name],
      }
    }
    const workersStill = runningWorkers(pids.rpd200, IDLE_WORKER).length
    ctx.log(`idle: timing status calls, ${ctx.statusRounds} rounds`)
    const status = await timeStatus(ctx, {
      node: { argv: [process.execPath, '-e', '0'] },
      rpd: { argv: [process.execPath, RPD_BIN, 'status', '--json', '--state-dir', rpd8.dir], env: rpd8.env },
      pm2: { argv: [process.execPath, PM2_BIN, 'jlist'], env: pm2.env },
      rpd200: {
        argv: [process.execPath, RPD_BIN, 'status', '--json', '--state-dir', rpd200.dir],
        env: rpd200.env,
      },
    })
    return { seconds, idle, workersStill, status, clockTicks: CLK_TCK }
  } finally {
    await rpd8.dispose()
    await rpd200.dispose()
    await pm2.dispose()
  }
}

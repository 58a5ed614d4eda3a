#!/usr/bin/env node
// npm run bench: measures every figure of docs/benchmarks.md in one run, side by side with its peer, and
// rewrites that file. BENCH_QUICK=1 makes a short trial run (fewer runs, a 10 s idle window, fewer jobs).
// BENCH_RUNS, BENCH_IDLE_S, BENCH_JOBS override the sizes; BENCH_ONLY=boot,lifecycle,... picks figures;
// BENCH_OUT writes the report elsewhere.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { measureBigPool } from './figures/big-pool.mjs'
import { measureBoot } from './figures/boot.mjs'
import { measureIdle } from './figures/idle.mjs'
import { measureLifecycle } from './figures/lifecycle.mjs'
import { measurePickup } from './figures/pickup.mjs'
import { measureSurvival } from './figures/survival.mjs'
import { measureThroughput } from './figures/throughput.mjs'
import { measureTune } from './figures/tune.mjs'
import { measureAutoscale } from './figures/autoscale.mjs'
import { measureAutoscaleLive } from './figures/autoscale-live.mjs'
import { measureBudget } from './figures/budget.mjs'
import { describeMachine } from './lib/machine.mjs'
import { ROOT, cleanUpAll } from './lib/tools.mjs'
import { writeReport } from './report.mjs'
import { performance } from 'node:perf_hooks'

const FIGURES = {
  boot: measureBoot,
  lifecycle: measureLifecycle,
  survival: measureSurvival,
  bigPool: measureBigPool,
  throughput: measureThroughput,
  pickup: measurePickup,
  idle: measureIdle,
  tune: measureTune,
  autoscale: measureAutoscale,
  autoscaleLive: measureAutoscaleLive,
  budget: measureBudget,
}

function positive(name, fallback) {
  const value = Number(process.env[name])
  return Number.isFinite(value) && value > 0 ? value : fallback
}

const quick = process.env.BENCH_QUICK === '1'
const only = process.env.BENCH_ONLY?.split(',').filter(Boolean)
const unknown = (only ?? []).filter((name) => !(name in FIGURES))
if (unknown.length) {
  process.stderr.write(
    `bench: unknown figure ${unknown[0]}; BENCH_ONLY takes ${Object.keys(FIGURES).join(', ')}\n`,
  )
  process.exit(2)
}
if (!fs.existsSync(path.join(ROOT, 'dist/master/master-main.js'))) {
  process.stderr.write('bench: dist/ is missing: run npm run build first (npm run bench does)\n')
  process.exit(1)
}

const startedAt = new Date()
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rpd-bench-'))
const ctx = {
  tmp,
  quick,
  runs: Math.round(positive('BENCH_RUNS', quick ? 3 : 5)),
  statusRounds: quick ? 7 : 20,
  idleSeconds: positive('BENCH_IDLE_S', quick ? 10 : 60),
  jobs: Math.round(positive('BENCH_JOBS', quick ? 5_000 : 20_000)),
  log: (line) => process.stderr.write(`bench: ${line}\n`),
}

let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interrupted) process.exit(130)
    interrupted = true
    ctx.log(`${signal}: stopping every pool, daemon and server this run started`)
    cleanUpAll().finally(() => process.exit(130))
  })
}

const results = {}
const errors = {}
const loadBefore = os.loadavg()
try {
  for (const [name, measure] of Object.entries(FIGURES)) {
    if (interrupted) break
    if (only && !only.includes(name)) continue
    const began = performance.now()
    ctx.log(`${name}: measuring`)
    try {
      results[name] = await measure(ctx)
    } catch (error) {
      if (interrupted) break
      errors[name] = error.message
      ctx.log(`${name}: FAILED: ${error.message}`)
      await cleanUpAll()
    }
    ctx.log(`${name}: ${Math.round((performance.now() - began) / 1000)} s`)
  }
} finally {
  await cleanUpAll()
}

// An interrupted run writes nothing: a report of half the figures must not replace the last full one.
if (interrupted) await new Promise(() => undefined)

const out = process.env.BENCH_OUT
  ? path.resolve(process.env.BENCH_OUT)
  : path.join(ROOT, 'docs/benchmarks.md')
const machine = describeMachine({ loadBefore, loadAfter: os.loadavg() })
writeReport(out, { ctx, results, errors, machine, startedAt, finishedAt: new Date() })
fs.rmSync(tmp, { recursive: true, force: true })
ctx.log(`wrote ${path.relative(process.cwd(), out) || out}`)
process.exit(Object.keys(errors).length ? 1 : 0)

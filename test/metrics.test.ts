import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  type MetricsSnapshot,
  classifyScaleReason,
  classifyWorkerState,
  escapeLabelValue,
  renderMetrics,
} from '../src/present/metrics.js'
import { ROOT } from './helpers/cli.js'

const PROMTOOL = process.env.PROMTOOL ?? 'promtool'

function snapshotOf(overrides: Partial<MetricsSnapshot> = {}): MetricsSnapshot {
  return {
    groups: [
      {
        name: 'images',
        desired: 4,
        min: 1,
        max: 8,
        workers: [
          { state: 'running', busy: true },
          { state: 'running', busy: true },
          { state: 'running', busy: false },
          { state: 'starting', busy: null },
        ],
        restarts: 3,
      },
      { name: 'mail,sms', desired: 1, workers: [{ state: 'running', busy: null }], restarts: 0 },
    ],
    scaleEvents: [
      { group: 'images', direction: 'up', reason: 'latency', count: 5 },
      { group: 'images', direction: 'down', reason: 'idle', count: 2 },
    ],
    guardVetoes: [{ guard: 'memory', count: 7 }],
    queues: [
      { name: 'images', depth: 120, latencySeconds: 12.5 },
      { name: 'mail', depth: 0, latencySeconds: null },
    ],
    resque: { workers: 5, working: 2, processed: 1000, failed: 4 },
    master: { pid: 4242, startedAt: '2026-12-01T10:00:00.000Z' },
    ...overrides,
  }
}

interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

// A small reader of the exposition format, so tests compare values rather than text layout.
function parseSamples(text: string): { samples: Sample[]; types: Map<string, string>; helps: Set<string> } {
  const samples: Sample[] = []
  const types = new Map<string, string>()
  const helps = new Set<string>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line)
    if (meta) {
      if (meta[1] === 'TYPE') types.set(meta[2], meta[3])
      else helps.add(meta[2])
      continue
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match) throw new Error(`unparsable line: ${JSON.stringify(line)}`)
    const labels: Record<string, string> = {}
    const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy
    for (const m of (match[2] ?? '').matchAll(labelRe))
      labels[m[1]] = m[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
    samples.push({ name: match[1], labels, value: Number(match[3]) })
  }
  return { samples, types, helps }
}

function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value
}

// Fails (never skips) when promtool is missing: CI installs Debian's prometheus package for it.
function checkWithPromtool(text: string): void {
  const run = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' })
  if (run.error) throw new Error(`cannot run ${PROMTOOL} (apt-get install prometheus): ${run.error.message}`)
  expect({ status: run.status, output: `${run.stdout}${run.stderr}`.trim() }).toEqual({
    status: 0,
    output: '',
  })
}

function expectNoDuplicateSeries(samples: Sample[]): void {
  const keys = samples.map((s) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`)
  expect(new Set(keys).size).toBe(keys.length)
}

describe('renderMetrics', () => {
  it('passes promtool check metrics', () => {
    checkWithPromtool(renderMetrics(snapshotOf()))
  })

  it('promtool is really consulted: it rejects a counter without _total', () => {
    const run = spawnSync(PROMTOOL, ['check', 'metrics'], {
      input: '# HELP rpd_bad x\n# TYPE rpd_bad counter\nrpd_bad 1\n',
      encoding: 'utf8',
    })
    expect(run.error).toBeUndefined()
    expect(run.status).not.toBe(0)
    expect(`${run.stdout}${run.stderr}`).toMatch(/_total/)
  })

  it('gives every family HELP and TYPE, counters ending in _total', () => {
    const { samples, types, helps } = parseSamples(renderMetrics(snapshotOf()))
    for (const name of new Set(samples.map((s) => s.name))) {
      expect(types.has(name), name).toBe(true)
      expect(helps.has(name), name).toBe(true)
    }
    for (const [name, type] of types) if (type === 'counter') expect(name).toMatch(/_total$/)
    expect([...types.keys()]).toEqual([
      'rpd_workers',
      'rpd_desired_workers',
      'rpd_min_workers',
      'rpd_max_workers',
      'rpd_restarts_total',
      'rpd_scale_events_total',
      'rpd_guard_vetoes_total',
      'rpd_queue_latency_seconds',
      'resque_jobs_in_queue',
      'resque_workers',
      'resque_working_workers',
      'resque_job_executions_total',
      'resque_failed_job_executions_total',
      'process_start_time_seconds',
    ])
    expect(types.get('rpd_restarts_total')).toBe('counter')
    expect(types.get('rpd_workers')).toBe('gauge')
    expect(types.get('resque_failed_job_executions_total')).toBe('counter')
  })

  it('reports the values of the snapshot', () => {
    const { samples } = parseSamples(renderMetrics(snapshotOf()))
    expect(valueOf(samples, 'rpd_workers', { group: 'images', state: 'busy' })).toBe(2)
    expect(valueOf(samples, 'rpd_workers', { group: 'images', state: 'idle' })).toBe(1)
    expect(valueOf(samples, 'rpd_workers', { group: 'images', state: 'starting' })).toBe(1)
    expect(valueOf(samples, 'rpd_workers', { group: 'images', state: 'stopping' })).toBe(0)
    expect(valueOf(samples, 'rpd_workers', { group: 'mail,sms', state: 'running' })).toBe(1)
    expect(valueOf(samples, 'rpd_desired_workers', { group: 'images' })).toBe(4)
    expect(valueOf(samples, 'rpd_desired_workers', { group: 'mail,sms' })).toBe(1)
    expect(valueOf(samples, 'rpd_min_workers', { group: 'images' })).toBe(1)
    expect(valueOf(samples, 'rpd_max_workers', { group: 'images' })).toBe(8)
    expect(valueOf(samples, 'rpd_restarts_total', { group: 'images' })).toBe(3)
    expect(
      valueOf(samples, 'rpd_scale_events_total', { group: 'images', direction: 'up', reason: 'latency' }),
    ).toBe(5)
    expect(
      valueOf(samples, 'rpd_scale_events_total', { group: 'images', direction: 'down', reason: 'idle' }),
    ).toBe(2)
    expect(valueOf(samples, 'rpd_guard_vetoes_total', { guard: 'memory' })).toBe(7)
    expect(valueOf(samples, 'rpd_queue_latency_seconds', { queue: 'images' })).toBe(12.5)
    expect(valueOf(samples, 'resque_jobs_in_queue', { queue: 'images' })).toBe(120)
    expect(valueOf(samples, 'resque_jobs_in_queue', { queue: 'mail' })).toBe(0)
    expect(valueOf(samples, 'resque_workers')).toBe(5)
    expect(valueOf(samples, 'resque_working_workers')).toBe(2)
    expect(valueOf(samples, 'resque_job_executions_total')).toBe(1000)
    expect(valueOf(samples, 'resque_failed_job_executions_total')).toBe(4)
    expect(valueOf(samples, 'process_start_time_seconds')).toBe(Date.parse('2026-12-01T10:00:00.000Z') / 1000)
    expectNoDuplicateSeries(samples)
  })

  it('exports bounds only for automatic groups', () => {
    const { samples } = parseSamples(renderMetrics(snapshotOf()))
    expect(valueOf(samples, 'rpd_min_workers', { group: 'mail,sms' })).toBeUndefined()
    expect(valueOf(samples, 'rpd_max_workers', { group: 'mail,sms' })).toBeUndefined()
  })

  it('leaves out the latency of a queue when it is not known, but keeps its depth', () => {
    const { samples } = parseSamples(renderMetrics(snapshotOf()))
    expect(samples.filter((s) => s.name === 'rpd_queue_latency_seconds').map((s) => s.labels.queue)).toEqual([
      'images',
    ])
    expect(valueOf(samples, 'resque_jobs_in_queue', { queue: 'mail' })).toBe(0)
  })

  it('leaves out the Resque totals when the pool has no Redis', () => {
    const text = renderMetrics(snapshotOf({ resque: undefined, queues: [] }))
    checkWithPromtool(text)
    expect(text).not.toMatch(/^resque_workers /m)
    expect(text).not.toMatch(/^resque_job_executions_total /m)
    expect(text).toMatch(/^# TYPE resque_jobs_in_queue gauge$/m)
  })

  it('escapes quotes, backslashes and newlines in label values', () => {
    const weird = ['say "hi"', 'back\\slash', 'two\nlines', 'all "\\\n" three', 'ünï{code}=,', '']
    const snapshot = snapshotOf({
      groups: weird.map((name) => ({ name, desired: 1, workers: [], restarts: 0 })),
      queues: weird.map((name, i) => ({ name, depth: i, latencySeconds: i / 10 })),
      guardVetoes: [{ guard: 'g"\\\n', count: 1 }],
      scaleEvents: [],
    })
    const text = renderMetrics(snapshot)
    checkWithPromtool(text)
    // Every sample stays on its own line: no raw newline inside a label.
    for (const line of text.split('\n')) if (line && !line.startsWith('#')) expect(line).toMatch(/ \S+$/)
    const { samples } = parseSamples(text)
    weird.forEach((name, i) => {
      expect(valueOf(samples, 'resque_jobs_in_queue', { queue: name }), name).toBe(i)
      expect(valueOf(samples, 'rpd_desired_workers', { group: name }), name).toBe(1)
    })
    expect(valueOf(samples, 'rpd_guard_vetoes_total', { guard: 'g"\\\n' })).toBe(1)
    expect(text).toContain('queue="say \\"hi\\""')
    expect(text).toContain('queue="back\\\\slash"')
    expect(text).toContain('queue="two\\nlines"')
  })

  it('keeps the reason label bounded: free text becomes other, and coinciding series are summed', () => {
    const text = renderMetrics(
      snapshotOf({
        scaleEvents: [
          { group: 'images', direction: 'up', reason: 'latency 12s > 5s on images', count: 1 },
          { group: 'images', direction: 'up', reason: 'somebody asked', count: 2 },
          { group: 'images', direction: 'up', reason: 'Manual', count: 4 },
          { group: 'images', direction: 'up', reason: 'manual', count: 1 },
        ],
      }),
    )
    checkWithPromtool(text)
    const { samples } = parseSamples(text)
    const events = samples.filter((s) => s.name === 'rpd_scale_events_total')
    expect(events.map((s) => [s.labels.reason, s.value])).toEqual([
      ['other', 3],
      ['manual', 5],
    ])
    expectNoDuplicateSeries(samples)
  })

  it('renders an empty pool as valid text', () => {
    const text = renderMetrics({
      groups: [],
      scaleEvents: [],
      guardVetoes: [],
      queues: [],
      master: { pid: 1, startedAt: 1_700_000_000_000 },
    })
    checkWithPromtool(text)
    expect(parseSamples(text).samples).toEqual([
      { name: 'process_start_time_seconds', labels: {}, value: 1_700_000_000 },
    ])
  })

  it('writes fractional, huge and tiny values as Prometheus reads them', () => {
    const text = renderMetrics(
      snapshotOf({
        queues: [
          { name: 'a', depth: 1e21, latencySeconds: 0.000001 },
          { name: 'b', depth: 3, latencySeconds: 86400.25 },
        ],
      }),
    )
    checkWithPromtool(text)
    const { samples } = parseSamples(text)
    expect(valueOf(samples, 'resque_jobs_in_queue', { queue: 'a' })).toBe(1e21)
    expect(valueOf(samples, 'rpd_queue_latency_seconds', { queue: 'a' })).toBe(0.000001)
    expect(valueOf(samples, 'rpd_queue_latency_seconds', { queue: 'b' })).toBe(86400.25)
  })
})

describe('classifyScaleReason', () => {
  it.each([
    ['latency', 'latency'],
    ['depth', 'depth'],
    ['idle', 'idle'],
    ['guard', 'guard'],
    ['schedule', 'schedule'],
    ['budget', 'budget'],
    ['manual', 'manual'],
    [' DEPTH ', 'depth'],
    ['queue latency 30s', 'other'],
    ['', 'other'],
  ])('%j -> %s', (input, code) => {
    expect(classifyScaleReason(input)).toBe(code)
  })
})

describe('classifyWorkerState', () => {
  it.each([
    [{ state: 'running', busy: true }, 'busy'],
    [{ state: 'running', busy: false }, 'idle'],
    [{ state: 'running', busy: null }, 'running'],
    [{ state: 'starting', busy: null }, 'starting'],
    [{ state: 'stopping', busy: true }, 'stopping'],
    [{ state: 'backoff', busy: null }, 'backoff'],
  ])('%j -> %s', (worker, state) => {
    expect(classifyWorkerState(worker)).toBe(state)
  })
})

describe('escapeLabelValue', () => {
  it.each([
    ['plain', 'plain'],
    ['a"b', 'a\\"b'],
    ['a\\b', 'a\\\\b'],
    ['a\nb', 'a\\nb'],
    ['\\n', '\\\\n'],
  ])('%j -> %j', (input, output) => {
    expect(escapeLabelValue(input)).toBe(output)
  })
})

describe('promtool', () => {
  it('accepts the scrape config of docs/observability.md', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs/observability.md'), 'utf8')
    const config = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((m) => m[1])
      .find((y) => y.includes('scrape_configs'))
    expect(config).toBeDefined()
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpd-prom-'))
    try {
      const file = path.join(dir, 'prometheus.yml')
      fs.writeFileSync(file, config!)
      const run = spawnSync(PROMTOOL, ['check', 'config', file], { encoding: 'utf8' })
      expect(run.error).toBeUndefined()
      expect(run.status, `${run.stdout}${run.stderr}`).toBe(0)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('is installed (CI installs Debian prometheus)', () => {
    expect(execFileSync(PROMTOOL, ['--version'], { encoding: 'utf8' })).toMatch(/promtool/)
  })
})

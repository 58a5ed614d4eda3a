import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupStates, fixture, newStateDir, rpd, status } from './helpers/cli.js'
import { formatJsonLogLine, formatLogLine, parseLogLine } from '../src/state/log-file.js'
import { readLastMatching } from '../src/state/log-tail.js'

afterEach(cleanupStates)
const IDLE = fixture('idle-worker.sh')
const AT = new Date('2026-03-01T10:00:00.123Z')

describe('log lines in both forms', () => {
  it('reads back a text line and a JSON line alike', () => {
    const text = parseLogLine(formatLogLine('foo', 12, 'idle worker for foo', AT).trimEnd())
    const json = parseLogLine(formatJsonLogLine('foo', 12, 'idle worker for foo', AT).trimEnd())
    expect(text).toEqual({ time: AT, source: 'foo', pid: 12, text: 'idle worker for foo' })
    expect(json).toEqual(text)
  })

  it('names a decision and keeps its fields', () => {
    const line = formatJsonLogLine('master', 7, 'autoscale: images 2 -> 4 (latency)', AT, { from: 2, to: 4 })
    expect(JSON.parse(line)).toEqual({
      time: AT.toISOString(),
      source: 'master',
      pid: 7,
      text: 'autoscale: images 2 -> 4 (latency)',
      decision: 'autoscale',
      from: 2,
      to: 4,
    })
    expect(parseLogLine(line.trimEnd()).fields).toEqual({ decision: 'autoscale', from: 2, to: 4 })
  })

  it('keeps text that is in neither form whole, including JSON that is not an entry', () => {
    for (const raw of ['node: fatal', '{"not":"an entry"}', '{broken', '[1,2]'])
      expect(parseLogLine(raw)).toMatchObject({ source: '', pid: 0, text: raw })
  })
})

describe('reading the tail of a large log', () => {
  it('reads only the end of a 50 MB file for the last lines, filtered or not', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rpdlog-')), 'master.log')
    const filler = formatLogLine('foo', 1, 'x'.repeat(100), AT)
    const block = filler.repeat(Math.ceil((1024 * 1024) / filler.length))
    const fd = fs.openSync(file, 'w')
    for (let mb = 0; mb < 50; mb++) fs.writeSync(fd, block)
    for (let n = 1; n <= 30; n++)
      fs.writeSync(fd, formatLogLine(n % 2 ? 'bar' : 'master', n, `line ${n}`, AT))
    fs.closeSync(fd)
    try {
      const size = fs.statSync(file).size
      expect(size).toBeGreaterThan(50 * 1024 * 1024)
      const last = readLastMatching(file, 5)
      expect(last.lines.map((l) => parseLogLine(l).text)).toEqual([
        'line 26',
        'line 27',
        'line 28',
        'line 29',
        'line 30',
      ])
      expect(last.bytesRead).toBeLessThanOrEqual(64 * 1024)
      const bar = readLastMatching(file, 3, (l) => parseLogLine(l).source === 'bar')
      expect(bar.lines.map((l) => parseLogLine(l).text)).toEqual(['line 25', 'line 27', 'line 29'])
      expect(bar.bytesRead).toBeLessThan(size / 100)
      // Every line, whatever the chunk boundaries cut, comes back whole.
      const all = readLastMatching(file, 40_000)
      expect(all.lines.every((l) => l === filler.trimEnd() || /^\S+ \S+\[\d+\]: line \d+$/.test(l))).toBe(
        true,
      )
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true })
    }
  })
})

describe('rpd logs with --log-format json', () => {
  it('writes one JSON object per line and shows it as text, JSON, or filtered', async () => {
    const dir = newStateDir()
    const start = await rpd([
      'start',
      'foo=1',
      'bar=1',
      '--command',
      IDLE,
      '--log-format',
      'json',
      '--state-dir',
      dir,
    ])
    expect(start.exitCode, start.stderr).toBe(0)
    const s = await status(dir)
    const raw = fs.readFileSync(path.join(dir, 'master.log'), 'utf8').trimEnd().split('\n')
    const entries = raw.map((line) => JSON.parse(line) as { source: string; pid: number; text: string })
    expect(entries[0]).toMatchObject({
      source: 'master',
      pid: s.pid,
      text: expect.stringMatching(/^started manager/),
    })
    expect(entries).toContainEqual(expect.objectContaining({ source: 'foo', text: 'idle worker for foo' }))

    const text = await rpd(['logs', '-n', '100', '--state-dir', dir])
    expect(text.stdout).toMatch(new RegExp(`^\\S+Z master\\[${s.pid}\\]: started manager`, 'm'))
    expect(text.stdout).toMatch(/^\S+Z foo\[\d+\]: idle worker for foo$/m)

    const foo = await rpd(['logs', '--group', 'foo', '--state-dir', dir])
    expect(foo.stdout.split('\n')).toEqual([expect.stringMatching(/ foo\[\d+\]: idle worker for foo$/)])
    const master = await rpd([
      'logs',
      '--pid',
      String(s.pid),
      '--grep',
      'started|generation',
      '--state-dir',
      dir,
    ])
    expect(master.stdout.split('\n').length).toBeGreaterThan(0)
    for (const line of master.stdout.split('\n'))
      expect(line).toMatch(new RegExp(`master\\[${s.pid}\\]: .*(started|generation)`))

    const json = await rpd(['logs', '--json', '--group', 'bar', '--state-dir', dir])
    expect(JSON.parse(json.stdout)).toMatchObject({ source: 'bar', text: 'idle worker for bar' })

    const bad = await rpd(['logs', '--grep', '(?=x)', '--state-dir', dir])
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toMatch(/bad --grep pattern/)
  })

  it('reads a log that holds both forms (the format changed between runs)', async () => {
    const dir = newStateDir()
    expect((await rpd(['start', 'foo=1', '--command', IDLE, '--state-dir', dir])).exitCode).toBe(0)
    expect((await rpd(['stop', '--state-dir', dir])).exitCode).toBe(0)
    fs.appendFileSync(
      path.join(dir, 'master.log'),
      formatJsonLogLine('master', 5, 'guard: memory vetoes foo +1', AT),
    )
    const text = await rpd(['logs', '-n', '2', '--state-dir', dir])
    expect(text.stdout.split('\n')).toEqual([
      expect.stringMatching(/master\[\d+\]: manager finished$/),
      `${AT.toISOString()} master[5]: guard: memory vetoes foo +1`,
    ])
    const json = await rpd(['logs', '-n', '2', '--json', '--state-dir', dir])
    const [first, second] = json.stdout.split('\n').map((line) => JSON.parse(line))
    expect(first).toMatchObject({ source: 'master', text: 'manager finished' })
    expect(second).toEqual({
      time: AT.toISOString(),
      source: 'master',
      pid: 5,
      text: 'guard: memory vetoes foo +1',
      decision: 'guard',
    })
  })
})

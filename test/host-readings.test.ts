import { spawn, type ChildProcess } from 'node:child_process'
import os from 'node:os'
import { afterEach, describe, expect, it } from 'vitest'
import {
  readHost,
  readLoadAverage,
  readMemory,
  readProcessMemory,
  readPss,
  readRss,
  readTreeSamples,
} from '../src/autoscale/host-readings.js'
import { collectTrees } from '../src/proc/process-tree.js'
import { waitFor } from './helpers/cli.js'

const MIB = 1024 ** 2
const children: ChildProcess[] = []

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

// A real process that holds `mib` MiB of touched memory and says when it has it.
async function startHolder(mib: number): Promise<number> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `globalThis.held = Buffer.alloc(${mib} * 1024 * 1024, 1); console.log('ready'); setInterval(() => {}, 1000)`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  children.push(child)
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  await waitFor(() => output.includes('ready'), 'the memory holder to allocate')
  return child.pid!
}

describe('host readings from /proc', () => {
  it('reads a plausible load average', async () => {
    const load1 = await readLoadAverage()
    expect(load1).toBeTypeOf('number')
    expect(load1).toBeGreaterThanOrEqual(0)
    expect(load1).toBeCloseTo(os.loadavg()[0]!, 0)
  })

  it('reads MemTotal and MemAvailable in bytes', async () => {
    const memory = (await readMemory())!
    expect(memory.memTotal).toBe(os.totalmem())
    expect(memory.memAvailable).toBeGreaterThan(0)
    expect(memory.memAvailable).toBeLessThanOrEqual(memory.memTotal)
    // MemAvailable counts free memory and what can be reclaimed, so it is never below MemFree.
    expect(memory.memAvailable).toBeGreaterThanOrEqual(os.freemem() * 0.9)
  })

  it('puts them together with the core count and the time given', async () => {
    const reading = (await readHost(12345))!
    expect(reading.at).toBe(12345)
    expect(reading.cores).toBe(os.availableParallelism())
    expect(reading.memTotal).toBe(os.totalmem())
    const now = Date.now()
    expect((await readHost())!.at).toBeGreaterThanOrEqual(now)
  })

  it("reads this process's own RSS close to what Node reports", async () => {
    const rss = (await readRss(process.pid))!
    const reported = process.memoryUsage().rss
    expect(rss).toBeGreaterThan(reported * 0.8)
    expect(rss).toBeLessThan(reported * 1.25)
  })

  it("reads this process's PSS, at most its RSS", async () => {
    const pss = (await readPss(process.pid))!
    expect(pss).toBeGreaterThan(0)
    expect(pss).toBeLessThanOrEqual((await readRss(process.pid))!)
    expect(await readProcessMemory(process.pid)).toEqual({ bytes: expect.any(Number), kind: 'PSS' })
  })

  it("reads a real child's memory as it holds it", async () => {
    const small = await startHolder(1)
    const large = await startHolder(100)
    const samples = await readTreeSamples([small, large])
    expect(samples.map((sample) => sample.pid)).toEqual([small, large])
    expect(samples.map((sample) => sample.processes)).toEqual([1, 1])
    const [smallBytes, largeBytes] = samples.map((sample) => sample.bytes!)
    expect(largeBytes).toBeGreaterThan(100 * MIB)
    expect(largeBytes! - smallBytes!).toBeGreaterThan(90 * MIB)
  })

  it('counts the memory of a worker and its forked child together', async () => {
    // A shell (the worker) whose child holds 120 MiB: the worker's own pid holds almost nothing.
    const child = spawn(
      'bash',
      [
        '-c',
        `${JSON.stringify(process.execPath)} -e "globalThis.held = Buffer.alloc(120 * 1024 * 1024, 1); console.log('ready'); setInterval(() => {}, 1000)"; true`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
    )
    children.push(child)
    let output = ''
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    try {
      await waitFor(() => output.includes('ready'), 'the job child to allocate')
      const [sample] = await readTreeSamples([child.pid!])
      expect(sample).toMatchObject({ pid: child.pid, processes: 2, kind: 'PSS' })
      expect(sample!.bytes).toBeGreaterThan(120 * MIB)
      expect((await readRss(child.pid!))!).toBeLessThan(20 * MIB)
    } finally {
      process.kill(-child.pid!, 'SIGKILL')
    }
  })

  it('leaves out a worker that has exited', async () => {
    const pid = await startHolder(1)
    const child = children.at(-1)!
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
    expect(await readRss(pid)).toBeUndefined()
    expect(await readTreeSamples([pid, process.pid])).toEqual([
      { pid: process.pid, bytes: expect.any(Number), processes: expect.any(Number), kind: 'PSS' },
    ])
  })
})

describe('collectTrees', () => {
  const proc = (pid: number, ppid: number, pgrp = pid, state = 'S') => ({ pid, ppid, pgrp, state })

  it('takes every descendant, root first, and nothing else', () => {
    const table = [proc(1, 0), proc(10, 1), proc(11, 10, 10), proc(12, 11, 10), proc(13, 12, 13), proc(20, 1)]
    expect(collectTrees(table, [10, 20])).toEqual(
      new Map([
        [10, [10, 11, 12, 13]],
        [20, [20]],
      ]),
    )
  })

  it("takes a member of the root's process group whose parent has gone", () => {
    const table = [proc(1, 0), proc(10, 1), proc(11, 1, 10), proc(12, 11, 10)]
    expect(collectTrees(table, [10]).get(10)).toEqual([10, 11, 12])
  })

  it('skips zombies and roots that are gone, and counts a pid in one tree only', () => {
    const table = [proc(1, 0), proc(10, 1), proc(11, 10, 10, 'Z'), proc(12, 10, 20), proc(20, 1)]
    const trees = collectTrees(table, [10, 20, 30])
    expect(trees.get(10)).toEqual([10, 12])
    expect(trees.get(20)).toEqual([20])
    expect(trees.has(30)).toBe(false)
  })
})

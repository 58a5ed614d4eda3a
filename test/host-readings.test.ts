import { spawn, type ChildProcess } from 'node:child_process'
import os from 'node:os'
import { afterEach, describe, expect, it } from 'vitest'
import {
  readHost,
  readLoadAverage,
  readMemory,
  readRss,
  readRssSamples,
} from '../src/autoscale/host-readings.js'
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

  it("reads a real child's RSS as it holds memory", async () => {
    const small = await startHolder(1)
    const large = await startHolder(100)
    const samples = await readRssSamples([small, large])
    expect(samples.map((sample) => sample.pid)).toEqual([small, large])
    const [smallRss, largeRss] = samples.map((sample) => sample.rss!)
    expect(largeRss).toBeGreaterThan(100 * MIB)
    expect(largeRss! - smallRss!).toBeGreaterThan(90 * MIB)
  })

  it('leaves out a worker that has exited', async () => {
    const pid = await startHolder(1)
    const child = children.at(-1)!
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGKILL')
    await exited
    expect(await readRss(pid)).toBeUndefined()
    expect(await readRssSamples([pid, process.pid])).toEqual([{ pid: process.pid, rss: expect.any(Number) }])
  })
})

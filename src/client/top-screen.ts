import { renderTop } from '../present/top.js'
import { enterFullScreen, formatFrame, leaveFullScreen, useColour } from '../present/terminal.js'
import { Pool } from './pool.js'
import { TopSampler, readTopRedis } from './top-sampler.js'

export const TOP_REFRESH_MS = 1_000
const ONCE_SIZE = { columns: 100, rows: 30 }

export interface TopOptions {
  once?: boolean
  stdin?: NodeJS.ReadStream
  stdout?: NodeJS.WriteStream
  env?: NodeJS.ProcessEnv
}

// One frame for scripts: plain lines when not a terminal (no escape codes), else sized to it.
export async function printTopOnce(dir: string, options: TopOptions = {}): Promise<string[]> {
  const stdout = options.stdout ?? process.stdout
  const view = await new TopSampler(dir, readTopRedis).sample()
  const size = stdout.isTTY ? { columns: stdout.columns, rows: stdout.rows } : ONCE_SIZE
  const lines = renderTop(view, size, { selected: 0, colour: useColour(stdout, options.env ?? process.env) })
  while (lines.length > 1 && lines[lines.length - 2] === '') lines.splice(lines.length - 2, 1)
  return lines
}

// The live view: redraws every second and on resize, in the alternate screen; q or ^C leaves it as it was.
export async function runTop(dir: string, options: TopOptions = {}): Promise<void> {
  const stdin = options.stdin ?? process.stdin
  const stdout = options.stdout ?? process.stdout
  const colour = useColour(stdout, options.env ?? process.env)
  const sampler = new TopSampler(dir, readTopRedis)
  const pool = new Pool({ stateDir: dir })
  let view = await sampler.sample()
  let selected = 0
  let message: string | undefined
  let done: () => void = () => undefined
  const finished = new Promise<void>((resolve) => (done = resolve))
  const draw = () => {
    selected = Math.min(selected, Math.max(0, view.groups.length - 1))
    const size = { columns: stdout.columns || 80, rows: stdout.rows || 24 }
    const lines = renderTop({ ...view, message }, size, { selected, colour })
    stdout.write(formatFrame(lines, size.columns))
  }
  let sampling = false
  const refresh = async () => {
    if (sampling) return
    sampling = true
    try {
      view = await sampler.sample()
      draw()
    } finally {
      sampling = false
    }
  }
  const scale = (delta: '+1' | '-1') => {
    const group = view.groups[selected]
    if (!group) return
    const target = Math.max(0, group.desired + (delta === '+1' ? 1 : -1))
    message = `${group.name}: ${group.desired} → ${target}`
    draw()
    pool.scale({ [group.name]: delta }, { wait: false }).then(
      () => void refresh(),
      (error: Error) => {
        message = `${group.name}: ${error.message}`
        draw()
      },
    )
  }
  const onKey = (data: Buffer) => {
    const key = data.toString('utf8')
    if (key === 'q' || key === '\x03' || key === 'Q') return done()
    if (key === '\x1b[A' || key === 'k') selected = Math.max(0, selected - 1)
    else if (key === '\x1b[B' || key === 'j') selected = Math.min(view.groups.length - 1, selected + 1)
    else if (key === '+' || key === '=') return scale('+1')
    else if (key === '-' || key === '_') return scale('-1')
    draw()
  }
  const onResize = () => draw()
  const leave = () => leaveFullScreen(stdout)
  enterFullScreen(stdout)
  process.on('exit', leave)
  if (stdin.isTTY) stdin.setRawMode(true)
  stdin.on('data', onKey)
  stdin.resume()
  process.on('SIGWINCH', onResize)
  stdout.on('resize', onResize)
  const onSignal = () => done()
  process.on('SIGTERM', onSignal)
  process.on('SIGHUP', onSignal)
  const timer = setInterval(() => void refresh(), TOP_REFRESH_MS)
  draw()
  try {
    await finished
  } finally {
    clearInterval(timer)
    stdin.off('data', onKey)
    if (stdin.isTTY) stdin.setRawMode(false)
    stdin.pause()
    process.off('SIGWINCH', onResize)
    stdout.off('resize', onResize)
    process.off('SIGTERM', onSignal)
    process.off('SIGHUP', onSignal)
    leave()
    process.off('exit', leave)
  }
}

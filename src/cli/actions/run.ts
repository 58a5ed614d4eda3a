import os from 'node:os'
import { startPool } from '../../client/start-pool.js'
import { type Action, flagString } from './action.js'

// What `rpd run` passes on to its master: what a process manager or a terminal sends.
const PASSED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGCONT',
]

// Exit status of a process killed by a signal, as a shell reports it.
const SIGNAL_EXIT_BASE = 128

const run: Action = async ({ dir, argv, flags, print }) => {
  const pass = new Map<NodeJS.Signals, () => void>()
  let pending: NodeJS.Signals[] = []
  // A signal that arrives while the master boots is held, then passed on once it can take it.
  for (const signal of PASSED_SIGNALS) {
    const handler = () => void pending.push(signal)
    pass.set(signal, handler)
    process.on(signal, handler)
  }
  const { child } = await startPool(
    dir,
    {
      specs: argv,
      command: flagString(flags, 'command'),
      jobs: flagString(flags, 'jobs'),
      redis: flagString(flags, 'redis'),
      namespace: flagString(flags, 'namespace'),
      interval: flagString(flags, 'interval'),
      stopSignal: flagString(flags, 'stop-signal'),
      app: flagString(flags, 'app'),
      config: flagString(flags, 'config'),
      environment: flagString(flags, 'environment'),
      foreground: true,
    },
    print,
  )
  if (!child) return 1
  const exited = new Promise<number>((resolve) =>
    child.on('exit', (code, signal) =>
      resolve(code ?? (signal ? SIGNAL_EXIT_BASE + os.constants.signals[signal] : 1)),
    ),
  )
  const forward = (signal: NodeJS.Signals) => {
    try {
      child.kill(signal)
    } catch {
      // already gone: its exit ends this process
    }
  }
  for (const [signal, handler] of pass) {
    process.off(signal, handler)
    process.on(signal, () => forward(signal))
  }
  for (const signal of pending) forward(signal)
  pending = []
  return exited
}

export default run

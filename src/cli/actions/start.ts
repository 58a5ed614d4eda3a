import { Pool } from '../../client/pool.js'
import { readStatusWithTree } from '../../client/pool-status.js'
import { formatStarted } from '../../present/outcomes.js'
import { formatStatus } from '../../present/status-text.js'
import { guardsFromFlags } from '../limit-options.js'
import type { StartOptions } from '../../client/start-pool.js'
import { type Action, flagNumber, flagString } from './action.js'
import { liveProgress } from './live-progress.js'

const start: Action = async (input) => {
  const { dir, argv, flags, print } = input
  const wait = !flags['no-wait']
  const live = liveProgress(input)
  const started = await new Pool({ stateDir: dir, ...live })
    .start({
      formation: argv,
      command: flagString(flags, 'command'),
      jobs: flagString(flags, 'jobs'),
      redis: flagString(flags, 'redis'),
      namespace: flagString(flags, 'namespace'),
      stopSignal: flagString(flags, 'stop-signal'),
      app: flagString(flags, 'app'),
      guards: guardsFromFlags(flags),
      metrics: flagString(flags, 'metrics'),
      logFormat: flagString(flags, 'log-format'),
      fleet: fleetOption(flags),
      interval: flagString(flags, 'interval'),
      config: flagString(flags, 'config'),
      environment: flagString(flags, 'environment'),
      wait,
      timeout: flagNumber(flags, 'timeout'),
    })
    .finally(live.finish)
  formatStarted(started, wait ? formatStatus(await readStatusWithTree(dir)) : undefined).forEach(print)
  return undefined
}
function fleetOption(flags: Record<string, unknown>): StartOptions['fleet'] {
  const name = flagString(flags, 'fleet')
  if (!name) return undefined
  const weight = flagString(flags, 'weight')
  return {
    name,
    hostId: flagString(flags, 'host-id'),
    weight: weight === undefined ? undefined : Number(weight),
  }
}

export default start

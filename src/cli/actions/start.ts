import { formatStatus, readFullStatus } from '../../client/pool-status.js'
import { startPool } from '../../client/start-pool.js'
import { type Action, flagNumber, flagString } from './action.js'

const start: Action = async ({ dir, argv, flags, print }) => {
  const wait = !flags['no-wait']
  const { master } = await startPool(
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
      wait,
      timeoutMs: flagNumber(flags, 'timeout') * 1000,
    },
    print,
  )
  if (!wait) {
    print(`started master ${master.pid}`)
    return undefined
  }
  print('')
  formatStatus(await readFullStatus(dir)).forEach(print)
  return undefined
}
export default start

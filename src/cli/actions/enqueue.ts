import { Pool } from '../../client/pool.js'
import { formatEnqueued } from '../../present/outcomes.js'
import { encodeJobArg } from '../../resque/enqueue.js'
import { type Action, flagNumber, flagString } from './action.js'

const enqueue: Action = async ({ dir, argv, flags, print }) => {
  const [queue = '', className = '', ...args] = argv
  const result = await new Pool({ stateDir: dir }).enqueue(queue, className, [], {
    rawArgs: args.map(encodeJobArg),
    count: flagNumber(flags, 'count'),
    redis: flagString(flags, 'redis'),
    namespace: flagString(flags, 'namespace'),
  })
  formatEnqueued(result, queue, className).forEach(print)
  return undefined
}
export default enqueue

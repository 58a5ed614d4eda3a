import { chooseRedisTarget, encodeJobArg, enqueueJobs } from '../../resque/enqueue.js'
import { redactUrl } from '../../resque/redis-url.js'
import { type Action, flagNumber, flagString } from './action.js'

const enqueue: Action = async ({ dir, argv, flags, print }) => {
  const [queue = '', className = '', ...args] = argv
  const target = chooseRedisTarget({
    url: flagString(flags, 'redis'),
    namespace: flagString(flags, 'namespace'),
    stateDir: dir,
  })
  const result = await enqueueJobs({
    ...target,
    queue,
    className,
    args: [],
    rawArgs: args.map(encodeJobArg),
    count: flagNumber(flags, 'count'),
  })
  const jobs = result.pushed === 1 ? `1 ${className} job` : `${result.pushed} ${className} jobs`
  print(
    `enqueued ${jobs} on ${queue} (${redactUrl(result.url)}, namespace ${result.namespace}); ${queue} now holds ${result.length}`,
  )
  return undefined
}
export default enqueue

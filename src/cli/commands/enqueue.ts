import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../base-command.js'
import { MAX_ENQUEUE_COUNT } from '../../resque/enqueue.js'

export default class Enqueue extends BaseCommand {
  static summary = 'Push a Resque job onto a queue, exactly as Ruby Resque does.'
  static description = `SADD resque:queues QUEUE, then RPUSH resque:queue:QUEUE {"class":CLASS,"args":[ARG...]}. Each ARG is parsed as JSON when it is valid JSON (3, true, {"id":1}, "x"), else taken as a string. Redis: --redis, else $REDIS_URL, else the pool's saved Redis, else redis://127.0.0.1:6379.`

  static strict = false
  static usage = '<%= command.id %> QUEUE CLASS [ARG...] [--count N] [--redis URL] [--namespace NAME]'
  static args = {
    queue: Args.string({ description: 'the queue to push to' }),
    class: Args.string({ description: 'the job class (a key of the jobs module)' }),
    arg: Args.string({ description: 'job arguments, JSON or plain strings' }),
  }
  static examples = [
    '<%= config.bin %> enqueue mail SendEmail 42 \'{"urgent":true}\'',
    '<%= config.bin %> enqueue load Sleep 0.1 --count 1000',
  ]
  static flags = {
    count: Flags.integer({
      helpValue: 'N',
      description: 'push this many copies, in one pipeline',
      default: 1,
      min: 1,
      max: MAX_ENQUEUE_COUNT,
    }),
    redis: Flags.string({
      helpValue: 'URL',
      description: "Redis URL [default: $REDIS_URL, else the pool's, else redis://127.0.0.1:6379]",
    }),
    namespace: Flags.string({
      helpValue: 'NAME',
      description: "Resque namespace in Redis [default: the pool's, else resque]",
    }),
  }
}

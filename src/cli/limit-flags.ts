import { Flags } from '@oclif/core'

// The pool-wide limits autoscaling keeps to, taken by `rpd start` and `rpd autoscale` alike.
export const limitFlags = {
  'max-load': Flags.string({
    helpValue: 'X',
    description:
      '1-minute load average per core above which no group grows (and, held for --guard-after, one sheds a worker)',
  }),
  'min-free-mem': Flags.string({
    helpValue: 'SIZE',
    description: 'MemAvailable floor, 500M or 10%: below it, no group grows (and, held, one sheds a worker)',
  }),
  'guard-after': Flags.string({
    helpValue: 'DURATION',
    description: 'how long a guard stays tripped before a worker is shed [default: 30s]',
  }),
  'max-rss': Flags.string({
    helpValue: 'SIZE',
    description:
      'a worker whose process tree (it and its job child) holds more is asked to stop after its job (QUIT) and replaced',
  }),
  'max-rss-grace': Flags.string({
    helpValue: 'DURATION',
    description:
      'after that QUIT, how long the tree may stay over --max-rss before TERM (KILL 10s later) [default: --guard-after]',
  }),
  'max-total': Flags.string({
    helpValue: 'N',
    description:
      'the sum of every group’s workers never exceeds N; automatic groups share what manual ones leave',
  }),
}

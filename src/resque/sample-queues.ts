import type { Redis } from 'ioredis'
import { ResqueKeys, parseQueueList } from './keys.js'
import { hasGlobs, resolveQueues } from './queues.js'

// What the autoscaler reads of one group per sample.
export interface GroupReading {
  // Jobs waiting in the queues attributed to the group.
  depth: number
  // Jobs completed so far by the group's live workers (sum of resque:stat:processed:ID).
  processed: number
  // The job at the head of the group's first non-empty queue, to tell how long it has waited.
  headId?: string
}

export interface SampleTarget {
  group: string
  workerIds: readonly string[]
}

// Which group a queue's backlog counts for: the first group (in formation order) that names it, else the
// first group whose glob (`*`) matches it. Each queue counts once, so `foo` and `*` never both grow for foo.
export function attributeQueues(groups: readonly string[], known: readonly string[]): Map<string, string[]> {
  const owner = new Map<string, string>()
  for (const group of groups) {
    const patterns = parseQueueList(group)
    if (hasGlobs(patterns)) continue
    for (const queue of patterns) if (!owner.has(queue)) owner.set(queue, group)
  }
  for (const group of groups) {
    const patterns = parseQueueList(group)
    if (!hasGlobs(patterns)) continue
    for (const queue of resolveQueues(patterns, known)) if (!owner.has(queue)) owner.set(queue, group)
  }
  const byGroup = new Map<string, string[]>(groups.map((group) => [group, []]))
  for (const [queue, group] of owner) byGroup.get(group)!.push(queue)
  return byGroup
}

// Reads every group's depth, head and processed count in one pipelined round trip. The queue set it
// resolves globs against is the one read by the previous sample (a new queue counts from the next one).
export class QueueSampler {
  private known: string[] = []
  private readonly keys: ResqueKeys

  constructor(
    private readonly redis: Redis,
    namespace: string,
  ) {
    this.keys = new ResqueKeys(namespace)
  }

  async read(targets: readonly SampleTarget[], again = true): Promise<Map<string, GroupReading>> {
    const before = this.known
    const attributed = attributeQueues(
      targets.map((t) => t.group),
      this.known,
    )
    const pipeline = this.redis.pipeline().smembers(this.keys.queues)
    for (const target of targets)
      for (const queue of attributed.get(target.group) ?? [])
        pipeline.llen(this.keys.queue(queue)).lindex(this.keys.queue(queue), 0)
    for (const target of targets)
      for (const id of target.workerIds) pipeline.get(this.keys.stat('processed', id))
    const replies = (await pipeline.exec()) ?? []
    const failed = replies.find(([error]) => error)
    if (failed) throw failed[0]
    let at = 0
    const next = () => replies[at++][1]
    this.known = ((next() as string[]) ?? []).sort()
    // A queue that appeared since the last sample counts now, not a second later (a burst into a new queue).
    const globs = targets.some((t) => hasGlobs(parseQueueList(t.group)))
    if (again && globs && this.known.join('\n') !== before.join('\n')) return this.read(targets, false)
    const readings = new Map<string, GroupReading>()
    for (const target of targets) {
      const reading: GroupReading = { depth: 0, processed: 0 }
      for (let i = (attributed.get(target.group) ?? []).length; i > 0; i--) {
        const depth = Number(next())
        const head = next() as string | null
        reading.depth += depth
        if (reading.headId === undefined && head !== null) reading.headId = head
      }
      readings.set(target.group, reading)
    }
    for (const target of targets) {
      const reading = readings.get(target.group)!
      for (let i = target.workerIds.length; i > 0; i--) reading.processed += Number(next() ?? 0)
    }
    return readings
  }
}

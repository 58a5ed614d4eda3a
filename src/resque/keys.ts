// Redis key names exactly as Ruby Resque 2.x writes them (`resque:` + name unless another namespace is chosen).
export const DEFAULT_NAMESPACE = 'resque'

export class ResqueKeys {
  constructor(readonly namespace: string = DEFAULT_NAMESPACE) {}

  private key(name: string): string {
    return `${this.namespace}:${name}`
  }

  get queues(): string {
    return this.key('queues')
  }

  queue(name: string): string {
    return this.key(`queue:${name}`)
  }

  get workers(): string {
    return this.key('workers')
  }

  // Holds {"queue","run_at","payload"} while the worker runs a job.
  worker(id: string): string {
    return this.key(`worker:${id}`)
  }

  // rpd's own: what the worker's last per-job script did, so that the same script sent again (its reply was lost
  // with the connection) answers the same instead of taking another job.
  workerLastStep(id: string): string {
    return this.key(`rpd-step:${id}`)
  }

  workerStarted(id: string): string {
    return this.key(`worker:${id}:started`)
  }

  get heartbeats(): string {
    return this.key('workers:heartbeat')
  }

  // `processed`, `failed`, or the per-worker `processed:ID` / `failed:ID`.
  stat(name: string, workerId?: string): string {
    return this.key(workerId ? `stat:${name}:${workerId}` : `stat:${name}`)
  }

  get failed(): string {
    return this.key('failed')
  }

  // Held (SET NX EX) by the worker pruning dead registrations, so a starting pool prunes once, not once per worker.
  get pruningLock(): string {
    return this.key('pruning_dead_workers_in_progress')
  }
}

// A queue group as Resque's QUEUE= reads it: split on commas, each name stripped.
export function parseQueueList(group: string): string[] {
  return group
    .split(',')
    .map((queue) => queue.trim())
    .filter((queue) => queue !== '')
}

// Resque's worker id, HOST:PID:QUEUES, with the queue list as given (so `*` stays `*`).
export function formatWorkerId(hostname: string, pid: number, group: string): string {
  return `${hostname}:${pid}:${parseQueueList(group).join(',')}`
}

import { readCmdline } from '../proc/process-identity.js'
import { busyFromTitle, forkedChildFromTitle, jobFromTitle } from '../resque/process-title.js'
import type { WorkerStatus } from '../state/status-file.js'

export interface WorkerActivity {
  title: string
  job?: WorkerStatus['job']
}

// What a worker's title says it does, read now. A Resque title (Ruby's or the built-in worker's) is the live
// truth; a built-in worker's IPC report reaches status.json later, so the two could disagree for a moment.
export function readWorkerActivity(worker: WorkerStatus, read = readCmdline): WorkerActivity {
  const title = read(worker.pid)
  const busy = busyFromTitle(title)
  if (busy === undefined) return { title, ...('job' in worker ? { job: worker.job } : {}) }
  if (!busy) return { title, job: null }
  const forked = forkedChildFromTitle(title)
  const job = jobFromTitle(forked ? read(forked) : title)
  // Busy, but the job unnamed (the forked child not readable yet): keep what the worker reported, if anything.
  return { title, job: job ?? worker.job ?? { queue: worker.queues, class: 'unknown', since: '' } }
}

// The workers with their titles, and their jobs as the titles say where they are Resque's.
export function withActivity(
  workers: readonly WorkerStatus[],
  read = readCmdline,
): (WorkerStatus & { title: string })[] {
  return workers.map((worker) => {
    if (worker.state === 'backoff') return { ...worker, title: '' }
    const activity = readWorkerActivity(worker, read)
    return { ...worker, ...activity }
  })
}

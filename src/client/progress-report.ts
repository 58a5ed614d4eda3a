import type { StatusFile, WorkerStatus } from '../state/status-file.js'
import { readWorkerActivity } from './worker-activity.js'

// Where a waiting `start`, `scale`, `reload`, `restart` or `stop` has got to, for a live display. The library
// only reports it (Pool's onProgress); the CLI draws it as one line on a terminal.
export interface PoolProgress {
  action: 'start' | 'scale' | 'reload' | 'restart' | 'stop'
  // Workers of the formation running (for restart: replacements running), of how many.
  started: number
  total: number
  // Workers on their way out, and of those the ones still working a job.
  stopping: number
  busy: number
}

export type OnProgress = (progress: PoolProgress) => void

// A worker on its way out that is still working a job: as it reported (built-in) or as its title says.
function busyStopping(worker: WorkerStatus): boolean {
  if (worker.job) return true
  return Boolean(readWorkerActivity(worker).job)
}

// The progress a status shows; `replacing` names the groups a restart waits for, with the epoch they need.
export function measureProgress(
  status: StatusFile,
  action: PoolProgress['action'],
  replacing?: Readonly<Record<string, number>>,
): PoolProgress {
  const live = status.workers.filter((w) => w.state !== 'backoff')
  const leaving = action === 'stop' ? live : live.filter((w) => w.state === 'stopping')
  let started = 0
  let total = 0
  if (action !== 'stop')
    for (const [group, count] of Object.entries(status.formation)) {
      if (replacing && !(group in replacing)) continue
      const running = live.filter(
        (w) => w.queues === group && w.state === 'running' && (!replacing || w.epoch >= replacing[group]),
      ).length
      started += Math.min(running, count)
      total += count
    }
  return { action, started, total, stopping: leaving.length, busy: leaving.filter(busyStopping).length }
}

// Calls onProgress only when what it would show has changed.
export function reportChanges(onProgress: OnProgress | undefined): OnProgress | undefined {
  if (!onProgress) return undefined
  let last = ''
  return (progress) => {
    const key = JSON.stringify(progress)
    if (key === last) return
    last = key
    onProgress(progress)
  }
}

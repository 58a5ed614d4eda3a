import type { JobInfo } from './status-file.js'

// What a built-in worker tells the master over its IPC channel, so status shows jobs and scale-down picks idle workers.
export type WorkerMessage =
  | { type: 'ready'; workerId: string }
  | { type: 'busy'; job: JobInfo }
  | { type: 'idle' }
  | { type: 'paused'; paused: boolean }

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
}

// Entry of the built-in Resque worker the master spawns: node worker-main.js [title padding].
// `node worker-main.js --check-jobs FILE` only loads a jobs module and lists its jobs (start's preflight).
// First: the tier-up setting applies to what is compiled after it.
import './tier-up.js'
import { EXIT_USAGE, RpdError, errorMessage } from '../errors.js'
import type { WorkerMessage } from '../state/worker-messages.js'
import { loadJobs } from '../resque/jobs-module.js'
import { DEFAULT_NAMESPACE, ResqueKeys } from '../resque/keys.js'
import { connectForever } from '../resque/redis-client.js'
import { DEFAULT_REDIS_URL } from '../resque/redis-url.js'
import { POLL_INTERVAL_MS, ResqueWorker } from '../resque/worker.js'

// Every line goes to master.log through the master's pipe; once the master is gone, writes must not crash the worker.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined)

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

function fail(message: string, code = 1): never {
  process.stderr.write(`${message}\n`)
  process.exit(code)
}

// Busy/idle reports go out at most once per JOB_REPORT_MS, carrying the latest state: a drain of short jobs
// would otherwise send the master two messages per job (at thousands of jobs a second, a fifth of its core).
const JOB_REPORT_MS = 50
let pendingJobReport: WorkerMessage | undefined
let lastJobReport: WorkerMessage = { type: 'idle' }
let jobReportTimer: NodeJS.Timeout | undefined

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message, undefined, undefined, () => undefined)
}

function flushJobReport(): void {
  clearTimeout(jobReportTimer)
  jobReportTimer = undefined
  const report = pendingJobReport
  pendingJobReport = undefined
  // Idle again after jobs that came and went within the window: the master already thinks so.
  if (!report || (report.type === 'idle' && lastJobReport.type === 'idle')) return
  lastJobReport = report
  send(report)
}

function notify(message: WorkerMessage): void {
  if (message.type === 'busy' || message.type === 'idle') {
    pendingJobReport = message
    jobReportTimer ??= setTimeout(flushJobReport, JOB_REPORT_MS).unref()
    return
  }
  // Other news keeps its order after the job state it follows.
  flushJobReport()
  send(message)
}

// Resque's INTERVAL: seconds between polls of empty queues.
function pollInterval(): number {
  const text = process.env.INTERVAL
  const seconds = text === undefined || text === '' ? NaN : Number(text)
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : POLL_INTERVAL_MS
}

// A jobs module whose top-level await waits on nothing that can still happen leaves Node with nothing to run: it
// would exit with status 13 and no word. Say which module, and why.
function loadJobsOrSay(file: string): ReturnType<typeof loadJobs> {
  const stuck = () =>
    fail(
      `jobs module ${file} never finished loading: its top-level await waits on a promise nothing can settle; fix it, then start again`,
      EXIT_USAGE,
    )
  process.once('beforeExit', stuck)
  return loadJobs(file).finally(() => process.off('beforeExit', stuck))
}

async function checkJobs(file: string | undefined): Promise<never> {
  try {
    const jobs = await loadJobsOrSay(file ?? '')
    process.stdout.write(`${JSON.stringify([...jobs.keys()])}\n`)
    process.exit(0)
  } catch (error) {
    fail(errorMessage(error), error instanceof RpdError ? error.exitCode : 1)
  }
}

async function work(): Promise<never> {
  // Signals may come before the worker exists (while the jobs module loads): then they just end the process.
  const running: { worker?: ResqueWorker } = {}
  const exitWith = (code: Promise<number> | number) => void Promise.resolve(code).then((n) => process.exit(n))
  // Resque's signals: QUIT finish the job then exit, TERM/INT exit now, USR2 pause, CONT resume.
  process.on('SIGQUIT', () => (running.worker ? running.worker.stopGracefully('QUIT') : process.exit(0)))
  process.on('SIGTERM', () => exitWith(running.worker ? running.worker.stopNow('TERM') : 0))
  process.on('SIGINT', () => exitWith(running.worker ? running.worker.stopNow('INT') : 0))
  process.on('SIGUSR2', () => running.worker?.pause())
  process.on('SIGCONT', () => running.worker?.resume())
  // Resque's USR1 kills a forked job child; jobs here run in this process, so there is nothing to kill.
  process.on('SIGUSR1', () => say('USR1 received; no forked child to kill, ignoring'))
  // The master is gone (its IPC channel closed): an idle worker exits now, a busy one after its job.
  process.on('disconnect', () =>
    running.worker ? running.worker.stopGracefully('master gone') : process.exit(0),
  )

  const group = process.env.QUEUES || process.env.QUEUE
  if (!group?.trim()) fail('QUEUE is not set: the master gives every worker its queue group')
  const jobsFile = process.env.RPD_JOBS
  if (!jobsFile) fail('RPD_JOBS is not set: start the pool with --jobs FILE')
  let jobs: Awaited<ReturnType<typeof loadJobs>>
  try {
    jobs = await loadJobsOrSay(jobsFile)
  } catch (error) {
    fail(errorMessage(error))
  }
  const redisUrl = process.env.REDIS_URL || DEFAULT_REDIS_URL
  let redis: ReturnType<typeof connectForever>
  try {
    redis = connectForever(redisUrl)
  } catch (error) {
    fail(errorMessage(error))
  }
  const worker = new ResqueWorker({
    redis,
    redisUrl,
    keys: new ResqueKeys(process.env.RPD_NAMESPACE || DEFAULT_NAMESPACE),
    group,
    jobs,
    pollIntervalMs: pollInterval(),
    say,
    notify,
  })
  running.worker = worker
  // An error no job caught: recorded against the job that raised it, then the worker exits (status 1).
  const uncaught = (error: unknown) => exitWith(worker.uncaught(error))
  process.on('uncaughtException', uncaught)
  process.on('unhandledRejection', uncaught)
  try {
    process.exit(await worker.run())
  } catch (error) {
    fail(`worker ${worker.id} stopped: ${errorMessage(error)}`)
  }
}

if (process.argv[2] === '--check-jobs') await checkJobs(process.argv[3])
else await work()

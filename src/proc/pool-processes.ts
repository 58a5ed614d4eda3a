import {
  type ProcessIdentity,
  isAlive,
  listProcesses,
  readCmdline,
  readEnviron,
  signalVerified,
} from './process-identity.js'

// A process that carries a pool's marks in its environment: started by one of its masters, or by such a process.
export interface PoolProcess extends ProcessIdentity {
  pgrp: number
  // The master that started it (or its ancestor worker).
  masterPid: number
  queues?: string
  command: string
}

// Proof of membership: the master sets both in every worker's environment, and children inherit them.
// A user's shell that exports RPD_STATE_DIR lacks RPD_MASTER_PID, so it is never taken for a worker.
export function isPoolEnviron(env: Readonly<Record<string, string>> | undefined, dir: string): boolean {
  return env !== undefined && env.RPD_STATE_DIR === dir && /^[1-9]\d*$/.test(env.RPD_MASTER_PID ?? '')
}

// Pids of this process and its ancestors: an rpd run from inside a worker must not stop itself.
function selfAndAncestors(byPid: ReadonlyMap<number, number>): Set<number> {
  const mine = new Set<number>()
  for (let pid = process.pid; pid > 1 && !mine.has(pid); pid = byPid.get(pid) ?? 0) mine.add(pid)
  return mine
}

// Every live process proved to belong to the pool in dir, found by scanning /proc (not by what status.json
// lists): workers spawned as a master died, children a worker's shell did not exec, daemons in new sessions.
export function findPoolProcesses(dir: string): PoolProcess[] {
  const processes = listProcesses().filter((p) => p.state !== 'Z')
  const mine = selfAndAncestors(new Map(processes.map((p) => [p.pid, p.ppid])))
  const found: PoolProcess[] = []
  for (const proc of processes) {
    if (mine.has(proc.pid)) continue
    const env = readEnviron(proc.pid)
    if (!isPoolEnviron(env, dir)) continue
    found.push({
      pid: proc.pid,
      startTime: proc.startTime,
      pgrp: proc.pgrp,
      masterPid: Number(env!.RPD_MASTER_PID),
      queues: env!.QUEUE,
      command: readCmdline(proc.pid),
    })
  }
  return found
}

// Ends each process select() finds (verified by pid and start time): TERM, then KILL to what is left after
// graceMs. Looked for again after KILL, so a child forked meanwhile does not escape.
export async function stopPoolProcesses(select: () => PoolProcess[], graceMs: number): Promise<void> {
  const first = select()
  for (const proc of first) signalVerified(proc, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline && first.some(isAlive)) await new Promise((r) => setTimeout(r, 100))
  for (let round = 0; round < 5; round++) {
    const left = select()
    if (left.length === 0) return
    for (const proc of left) signalVerified(proc, 'SIGKILL')
    await new Promise((r) => setTimeout(r, 50))
  }
}

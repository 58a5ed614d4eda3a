import { type ChildProcess, spawn } from 'node:child_process'

// The kernel's death signal (setpriv --pdeathsig) reaches only the process a worker's bash execs. A command bash
// does not exec (`a; b`, a pipeline, a loop) leaves its real worker out of reach when the master is killed, and
// with a subreaper (systemd, tini) that worker is not even orphaned to init. So the master keeps one small
// shell beside it, blocked reading a pipe from the master. The pipe ends when the master does, however it ends:
// unless the master said `done` first (a finished stop), the shell sends the stop signal to every process whose
// environment proves it belongs to this master (RPD_STATE_DIR and RPD_MASTER_PID, which workers and their
// children inherit). GNU grep reads the environments in one pass; the shell's own environment has neither mark.
// Its first word names it in `ps`.
const SCRIPT = [
  ': rpd death watch',
  'IFS= read -r said',
  '[ "$said" = done ] && exit 0',
  'for file in $(grep -lsxzF "RPD_MASTER_PID=$2" /proc/[0-9]*/environ | xargs -r grep -lsxzF "RPD_STATE_DIR=$1"); do',
  '  pid=${file#/proc/}; pid=${pid%/environ}',
  '  [ "$pid" = "$$" ] || kill -s "$3" "$pid" 2>/dev/null',
  'done',
].join('\n')

export class DeathWatch {
  private readonly child?: ChildProcess

  // signal: the pool's stop signal, as the death signal is (QUIT by default).
  constructor(stateDir: string, masterPid: number, signal: string) {
    try {
      this.child = spawn('/bin/sh', ['-c', SCRIPT, 'rpd-death-watch', stateDir, String(masterPid), signal], {
        stdio: ['pipe', 'ignore', 'ignore'],
        // Its own process group: a ^C or a group signal meant for the master does not end it.
        detached: true,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
      })
      this.child.on('error', () => undefined)
      this.child.stdin?.on('error', () => undefined)
      this.child.unref()
    } catch {
      // Without it a killed master leaves the rest of a compound command running, as before.
    }
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  // The master is finishing normally: nothing of the pool is left to signal.
  done(): void {
    this.child?.stdin?.end('done\n')
  }
}

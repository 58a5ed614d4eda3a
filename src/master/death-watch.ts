import { spawn } from 'node:child_process'
import type { Socket } from 'node:net'

// The kernel's death signal (setpriv --pdeathsig) reaches only the process a worker's bash execs. A command bash
// does not exec (`a; b`, a pipeline, a loop) leaves its real worker out of reach when the master is killed, and
// with a subreaper (systemd, tini) that worker is not even orphaned to init. So the master keeps one small
// shell beside it, blocked reading a pipe from the master (fd 3). The pipe ends when the master does, however it ends:
// unless the master said `done` first (a finished stop), the shell sends the stop signal to every process whose
// environment proves it belongs to this master (RPD_STATE_DIR and RPD_MASTER_PID, which workers and their
// children inherit). GNU grep reads the environments in one pass; the shell's own environment has neither mark.
// The shell that is spawned only starts the watch in the background and exits, so the watch is no child of the
// master: the master's children are exactly its workers. Its first word names it in `ps`.
const WATCH = [
  ': rpd death watch',
  'IFS= read -r said <&3',
  '[ "$said" = done ] && exit 0',
  'for file in $(grep -lsxzF "RPD_MASTER_PID=$2" /proc/[0-9]*/environ | xargs -r grep -lsxzF "RPD_STATE_DIR=$1"); do',
  '  pid=${file#/proc/}; pid=${pid%/environ}',
  '  kill -s "$3" "$pid" 2>/dev/null',
  'done',
].join('\n')
const SCRIPT = `(${WATCH}\n) &`

export class DeathWatch {
  // The master's end of the pipe; the kernel closes it when the master ends.
  private readonly pipe?: Socket

  // signal: the pool's stop signal, as the death signal is (QUIT by default).
  constructor(stateDir: string, masterPid: number, signal: string) {
    try {
      const child = spawn('/bin/sh', ['-c', SCRIPT, 'rpd-death-watch', stateDir, String(masterPid), signal], {
        stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
        // Its own process group: a ^C or a group signal meant for the master does not end it.
        detached: true,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
      })
      child.on('error', () => undefined)
      child.unref()
      this.pipe = child.stdio[3] as Socket | undefined
      this.pipe?.on('error', () => undefined)
      // It must not keep the master's loop alive.
      this.pipe?.unref()
    } catch {
      // Without it a killed master leaves the rest of a compound command running, as before.
    }
  }

  // The master is finishing normally: nothing of the pool is left to signal.
  done(): void {
    // A pipe with room takes the line at once, before the master exits.
    this.pipe?.end('done\n')
  }
}

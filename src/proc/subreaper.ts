// PID 1 must reap orphans, and Node can wait only for children it spawned itself (libuv waits by pid, never
// for "any child"). So a PID-1 `rpd run` puts a small perl process between itself and the master: perl
// marks itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so every orphan of the pool is handed to
// it rather than to PID 1, and it reaps them all; it forwards signals to the master and exits as it does.
import fs from 'node:fs'

// prctl's syscall number, by architecture (asm/unistd.h).
const PRCTL_SYSCALL: Partial<Record<NodeJS.Architecture, number>> = { x64: 157, arm64: 167, arm: 172 }
const PR_SET_CHILD_SUBREAPER = 36
const PERL_PATHS = ['/usr/bin/perl', '/bin/perl']

const REAPER = `
syscall(${'$'}ENV{RPD_PRCTL}, ${PR_SET_CHILD_SUBREAPER}, 1, 0, 0, 0) == 0 or die "prctl: $!\\n";
my $pid = fork() // die "fork: $!\\n";
if (!$pid) { exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\\n" }
$SIG{$_} = eval "sub { kill '$_', $pid }" for qw(INT TERM HUP QUIT USR1 USR2 CONT);
for (;;) {
  my $w = waitpid(-1, 0);
  next if $w == -1 && $!{EINTR};
  exit(($? & 127) ? 128 + ($? & 127) : $? >> 8) if $w == $pid;
  exit(1) if $w == -1;
}
`

// argv that runs file/args under the reaper, or undefined where it cannot run here (the caller warns).
export function reapingArgv(
  file: string,
  args: readonly string[],
): { file: string; args: string[]; env: NodeJS.ProcessEnv } | undefined {
  const prctl = PRCTL_SYSCALL[process.arch]
  const perl = PERL_PATHS.find((candidate) => fs.existsSync(candidate))
  if (!prctl || !perl) return undefined
  return { file: perl, args: ['-e', REAPER, file, ...args], env: { RPD_PRCTL: String(prctl) } }
}

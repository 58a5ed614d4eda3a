import type { ProcStat } from './process-identity.js'

type TreeEntry = Pick<ProcStat, 'pid' | 'ppid' | 'pgrp' | 'state'>

// The pids of each root's tree, root first: every live descendant (by parent pid), and every live member of
// the process group the root leads, which catches a job child orphaned to another parent. A pid is in one
// tree at most (the first root that claims it), so no memory is counted twice.
export function collectTrees(
  processes: readonly TreeEntry[],
  roots: readonly number[],
): Map<number, number[]> {
  const live = processes.filter((p) => p.state !== 'Z')
  const children = new Map<number, number[]>()
  for (const p of live) {
    const list = children.get(p.ppid)
    if (list) list.push(p.pid)
    else children.set(p.ppid, [p.pid])
  }
  const present = new Set(live.map((p) => p.pid))
  const claimed = new Set<number>()
  const trees = new Map<number, number[]>()
  for (const root of roots) {
    if (!present.has(root) || claimed.has(root)) continue
    const tree: number[] = []
    const queue = [root]
    for (const p of live) if (p.pgrp === root && p.pid !== root) queue.push(p.pid)
    while (queue.length > 0) {
      const pid = queue.shift()!
      if (claimed.has(pid)) continue
      claimed.add(pid)
      tree.push(pid)
      queue.push(...(children.get(pid) ?? []))
    }
    trees.set(root, tree)
  }
  return trees
}

// Which queues a worker polls, as Resque decides: names in the order given, or globs (`*` = every queue)
// matched against `resque:queues`, each pattern's matches sorted.

const GLOB_CHARS = /[*?{}[\]]/

// Resque treats the whole list as dynamic as soon as any name holds a glob character.
export function hasGlobs(queues: readonly string[]): boolean {
  return GLOB_CHARS.test(queues.join(''))
}

// A File.fnmatch?-style pattern (no flags) as a regular expression: `*`, `?`, `[set]`, `[!set]`, `\x`.
function globToRegExp(pattern: string): RegExp {
  let source = ''
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]
    if (char === '*') source += '.*'
    else if (char === '?') source += '.'
    else if (char === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i])
    else if (char === '[') {
      const close = pattern.indexOf(']', i + 2)
      if (close < 0) {
        source += '\\['
        continue
      }
      let set = pattern.slice(i + 1, close)
      const negate = set[0] === '!' || set[0] === '^'
      if (negate) set = set.slice(1)
      source += `[${negate ? '^' : ''}${set.replace(/[\\\]^]/g, '\\$&')}]`
      i = close
    } else source += escapeRegExp(char)
  }
  return new RegExp(`^${source}$`, 's')
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

export function matchesQueue(pattern: string, queue: string): boolean {
  // fnmatch without FNM_DOTMATCH: a wildcard never matches a leading dot.
  if (queue.startsWith('.') && !pattern.startsWith('.')) return false
  return globToRegExp(pattern).test(queue)
}

// The queues to poll, in order, given the worker's list and the names in `resque:queues`.
export function resolveQueues(patterns: readonly string[], known: readonly string[]): string[] {
  if (!hasGlobs(patterns)) return [...new Set(patterns)]
  const sorted = [...known].sort()
  return [...new Set(patterns.flatMap((pattern) => sorted.filter((queue) => matchesQueue(pattern, queue))))]
}

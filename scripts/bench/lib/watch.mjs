// Notes the first moment a condition holds while something else (a CLI call) runs.
import { performance } from 'node:perf_hooks'
import { clearInterval, setInterval } from 'node:timers'

export function watchFirst(check, intervalMs = 10) {
  const started = performance.now()
  let at
  const timer = setInterval(() => {
    if (at === undefined && check()) at = performance.now() - started
  }, intervalMs)
  return {
    // Milliseconds from the start of the watch until check() first held, or undefined if it never did.
    stop() {
      clearInterval(timer)
      if (at === undefined && check()) at = performance.now() - started
      return at
    },
  }
}

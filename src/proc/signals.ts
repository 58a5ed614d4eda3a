import os from 'node:os'
import { usageError } from '../errors.js'

// Accepts QUIT, SIGQUIT, quit or a number; returns the canonical SIGNAME.
export function parseSignal(input: string): NodeJS.Signals {
  const names = os.constants.signals as Record<string, number>
  const trimmed = input.trim()
  if (/^\d+$/.test(trimmed)) {
    const found = Object.entries(names).find(([, n]) => n === Number(trimmed))
    if (found) return found[0] as NodeJS.Signals
  } else {
    const upper = trimmed.toUpperCase()
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`
    if (name in names) return name as NodeJS.Signals
  }
  throw usageError(
    `unknown signal ${JSON.stringify(input.slice(0, 40))}: use a name such as QUIT, TERM, HUP, USR1, USR2 or CONT`,
  )
}

// QUIT for SIGQUIT: how Resque and the log speak of signals.
export function shortSignal(signal: string): string {
  return signal.replace(/^SIG/, '')
}

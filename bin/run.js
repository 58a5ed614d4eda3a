#!/usr/bin/env node
const args = process.argv.slice(2)
if (args[0] === 'status') {
  const { runStatusFast } = await import('../dist/status-fast.js')
  const code = await runStatusFast(args.slice(1))
  if (code !== undefined) process.exit(code)
}

const { execute, settings } = await import('@oclif/core')
// Always run the compiled commands, whatever NODE_ENV says (oclif would otherwise look for TypeScript sources).
settings.enableAutoTranspile = false
await execute({ dir: import.meta.url })

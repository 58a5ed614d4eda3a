#!/usr/bin/env node
// Plain command lines run straight from the library; oclif (help, errors, the shell) only when needed.
const { quietOnClosedOutput, runFast } = await import('../dist/cli/fast-cli.js')
quietOnClosedOutput()
const code = await runFast(process.argv.slice(2))
// On Linux stdout is synchronous (files, pipes, terminals): exiting now loses no output.
if (code !== undefined) process.exit(code)

const { execute, settings } = await import('@oclif/core')
// Always run the compiled commands, whatever NODE_ENV says (oclif would otherwise look for TypeScript sources).
settings.enableAutoTranspile = false
await execute({ dir: import.meta.url })

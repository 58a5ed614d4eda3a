// Imported first by the worker's entry, before any of the code its job loop runs is compiled.
//
// V8 optimizes a function once it has run about 66 KB of its bytecode (its interrupt budget). A worker's loop
// (reply parsing, reserve, perform, the next script) is hot from the first job, but a fresh worker spends its
// first several thousand jobs in unoptimized code: on a drain of no-op jobs it ran ~25 % slower than the same
// worker warmed. A quarter of the budget gets there within the first thousand jobs; a warm worker runs the same.
import v8 from 'node:v8'

export const WORKER_INTERRUPT_BUDGET = 16_384

v8.setFlagsFromString(`--interrupt-budget=${WORKER_INTERRUPT_BUDGET}`)

// Bundles the master (dist/master/master-main.js and what it imports) into dist/master/master-main.bundle.js,
// with what it loads only on demand (Redis, metrics, the fleet) split into dist/master/bundle-*.js chunks
// that it imports when needed. Loaded as some 45 separate modules, its code takes about 30 ms to start on
// this project's 2-core benchmark machine; as one file about 11 ms, on every `rpd start`. src/paths.ts
// launches the bundle where it exists. Every module is bundled at the depth of dist/master/, the depth of
// all of them but src/paths.ts, which the RPD_BUNDLED_IN definition tells where it is.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const outdir = path.join(root, 'dist', 'master')

for (const name of fs.readdirSync(outdir))
  if (name.endsWith('.bundle.js') || name.startsWith('bundle-')) fs.rmSync(path.join(outdir, name))

await build({
  entryPoints: [path.join(outdir, 'master-main.js')],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  outdir,
  entryNames: '[name].bundle',
  chunkNames: 'bundle-[hash]',
  define: { RPD_BUNDLED_IN: '"master"' },
  legalComments: 'inline',
  logLevel: 'warning',
})

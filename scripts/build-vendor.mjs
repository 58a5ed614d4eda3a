// Bundles dependencies on the path of every command into one file each, dist/vendor/NAME.cjs. As
// published they are many CommonJS files: yaml some 70 (about 15 ms to load; 5 ms bundled),
// proper-lockfile with graceful-fs 8-12 ms (under 5 ms bundled). src/state/vendored.ts loads the
// bundle, or the package where there is none.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const VENDORED = ['yaml', 'proper-lockfile']

for (const name of VENDORED)
  await build({
    stdin: { contents: `module.exports = require('${name}')`, resolveDir: root, loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: path.join(root, 'dist', 'vendor', `${name}.cjs`),
    legalComments: 'inline',
    logLevel: 'warning',
  })

// Bundles the `yaml` package into dist/vendor/yaml.cjs. As published, yaml is some 70 CommonJS files,
// and resolving and compiling them costs every command that reads pool.yml about 15 ms; one file
// loads in about 5 ms. src/state/yaml.ts loads the bundle, or the package where there is none.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
await build({
  stdin: { contents: "module.exports = require('yaml')", resolveDir: root, loader: 'js' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile: path.join(root, 'dist', 'vendor', 'yaml.cjs'),
  legalComments: 'inline',
  logLevel: 'warning',
})

// The `yaml` package, loaded from the one-file bundle the build makes (scripts/build-vendor.mjs),
// or from node_modules when run from source.
import { createRequire } from 'node:module'
import type * as Yaml from 'yaml'

const require = createRequire(import.meta.url)

function load(): typeof Yaml {
  try {
    return require('../vendor/yaml.cjs') as typeof Yaml
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error
    return require('yaml') as typeof Yaml
  }
}

const YAML = load()
export default YAML

// Loads a dependency from the one-file bundle `npm run build` makes of it (scripts/build-vendor.mjs,
// dist/vendor/NAME.cjs), or from node_modules when run from source. Bundled, a package of many
// CommonJS files loads in a fraction of the time, on the path of every command.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

export function requireVendored<T>(name: string): T {
  try {
    return require(`../vendor/${name}.cjs`) as T
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error
    return require(name) as T
  }
}

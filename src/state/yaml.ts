// The `yaml` package: some 70 CommonJS files as published, about 15 ms of every command that reads
// pool.yml; about 5 ms as one bundled file. Loaded at first use: a master launched by `rpd start` is handed
// its pool as JSON and needs none of it to spawn its first workers.
import type * as Yaml from 'yaml'
import { requireVendored } from './vendored.js'

let loaded: typeof Yaml | undefined

export function yaml(): typeof Yaml {
  return (loaded ??= requireVendored<typeof Yaml>('yaml'))
}

// The `yaml` package: some 70 CommonJS files as published, about 15 ms of every command that reads
// pool.yml; about 5 ms as one bundled file.
import type * as Yaml from 'yaml'
import { requireVendored } from './vendored.js'

const YAML = requireVendored<typeof Yaml>('yaml')
export default YAML

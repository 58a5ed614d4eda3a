import { yaml } from '../state/yaml.js'
import type { PublicConfig } from '../client/config.js'

// The saved settings as YAML, as `rpd config` shows them (its own file: only config loads the YAML printer).
export function formatConfig(config: PublicConfig): string[] {
  return yaml().stringify(config).trimEnd().split('\n')
}

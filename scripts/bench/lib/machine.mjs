// What the numbers were measured on: they mean little without it.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ROOT } from './tools.mjs'

function quiet(file, args) {
  try {
    return execFileSync(file, args, {
      encoding: 'utf8',
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
  } catch {
    return undefined
  }
}

function cpuModel() {
  try {
    const line = fs
      .readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'))
    return line?.split(':')[1].trim()
  } catch {
    return undefined
  }
}

function packageVersion(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version
  } catch {
    return undefined
  }
}

export function describeMachine({ loadBefore, loadAfter }) {
  const commit = quiet('git', ['rev-parse', '--short', 'HEAD'])
  const dirty = quiet('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src', 'bin'])
  return {
    cpus: os.availableParallelism(),
    model: cpuModel() ?? os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: os.totalmem() / 2 ** 30,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    redis: quiet('redis-server', ['--version'])?.match(/v=(\S+)/)?.[1],
    pm2: packageVersion('pm2'),
    nodeResque: packageVersion('node-resque'),
    rpd: commit ? `${commit}${dirty ? ' with uncommitted changes in src/ or bin/' : ''}` : 'unknown',
    loadBefore,
    loadAfter,
  }
}

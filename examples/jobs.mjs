// Example jobs for the built-in worker: `rpd start --jobs examples/jobs.mjs`, then `rpd enqueue demo Resize photo.png 800`.
import { setTimeout as sleep } from 'node:timers/promises'

// Pretends to resize an image: takes a little while, like real work.
export async function Resize(name, width) {
  await sleep(20)
  if (!name) throw new Error('no image name given')
  return `${name}@${width}`
}

import { printTopOnce, runTop } from '../../client/top-screen.js'
import type { Action } from './action.js'

const top: Action = async ({ dir, flags, print }) => {
  // Without a terminal to draw on, one frame is all a script can use.
  if (flags.once || !process.stdout.isTTY || !process.stdin.isTTY) {
    ;(await printTopOnce(dir)).forEach((line) => print(line))
    return undefined
  }
  await runTop(dir)
  return undefined
}
export default top

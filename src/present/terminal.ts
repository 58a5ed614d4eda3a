// Escape sequences for a full-screen view that redraws in place: every frame moves home and overwrites
// each line, clearing only what is left of the previous one, so nothing blinks.

export const ENTER_ALT_SCREEN = '\x1b[?1049h'
export const LEAVE_ALT_SCREEN = '\x1b[?1049l'
export const HIDE_CURSOR = '\x1b[?25l'
export const SHOW_CURSOR = '\x1b[?25h'
export const CURSOR_HOME = '\x1b[H'
export const CLEAR_TO_LINE_END = '\x1b[K'
export const CLEAR_TO_SCREEN_END = '\x1b[J'
export const CLEAR_LINE = '\x1b[2K'

export interface WritableText {
  write(chunk: string): unknown
  isTTY?: boolean
}

export type Style = 'bold' | 'dim' | 'inverse' | 'red' | 'green' | 'yellow' | 'cyan'

const STYLE_CODES: Record<Style, string> = {
  bold: '1',
  dim: '2',
  inverse: '7',
  red: '31',
  green: '32',
  yellow: '33',
  cyan: '36',
}

// Colour only for a terminal, and never when NO_COLOR is set to anything (no-color.org) or TERM is dumb.
export function useColour(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): boolean {
  if (stream.isTTY !== true) return false
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  return env.TERM !== 'dumb'
}

export function paint(text: string, style: Style, colour: boolean): string {
  return colour && text !== '' ? `\x1b[${STYLE_CODES[style]}m${text}\x1b[0m` : text
}

export function enterFullScreen(stream: WritableText): void {
  stream.write(ENTER_ALT_SCREEN + HIDE_CURSOR + CURSOR_HOME + CLEAR_TO_SCREEN_END)
}

// Safe to call more than once (on q, on ^C, on exit): it only restores the normal screen and cursor.
export function leaveFullScreen(stream: WritableText): void {
  stream.write(SHOW_CURSOR + LEAVE_ALT_SCREEN)
}

// One frame as a single write: each line placed by absolute position (raw mode turns off the tty's
// newline translation) and cleared to its end, and whatever is below the last line cleared too. After a
// line that fills the width the cursor sits on its last cell, where clearing would erase that cell: such a
// line gets no clear-to-end, and as the last line it has the rows below cleared before it is written.
export function formatFrame(lines: readonly string[], columns: number): string {
  if (lines.length === 0) return CURSOR_HOME + CLEAR_TO_SCREEN_END
  let out = ''
  lines.forEach((line, index) => {
    const full = displayWidth(stripAnsi(line)) >= columns
    const last = index === lines.length - 1
    const at = `\x1b[${index + 1};1H`
    if (!last) out += at + line + (full ? '' : CLEAR_TO_LINE_END)
    else out += full ? at + CLEAR_TO_SCREEN_END + line : at + line + CLEAR_TO_SCREEN_END
  })
  return out
}

// Control characters (a newline in a queue name) would break the frame: show them as `?`.
export function sanitizeText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, '?')
}

// East Asian wide and fullwidth ranges, and emoji, take two cells.
const WIDE_RANGES: readonly [number, number][] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
]

export function charWidth(char: string): number {
  const code = char.codePointAt(0) ?? 0
  if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return 0
  if (/^[\p{Mn}\p{Me}\u200b-\u200f]$/u.test(char)) return 0
  return WIDE_RANGES.some(([low, high]) => code >= low && code <= high) ? 2 : 1
}

// Terminal cells the text occupies (no escape sequences in it).
export function displayWidth(text: string): number {
  let width = 0
  for (const char of text) width += charWidth(char)
  return width
}

// Cuts text to at most width cells, ending in … when something was cut.
export function truncateToWidth(text: string, width: number): string {
  if (width <= 0) return ''
  if (displayWidth(text) <= width) return text
  let out = ''
  let used = 0
  for (const char of text) {
    const w = charWidth(char)
    if (used + w > width - 1) break
    out += char
    used += w
  }
  return `${out}…`
}

// Pads (or cuts) text to exactly width cells.
export function fitToWidth(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = truncateToWidth(text, width)
  const pad = ' '.repeat(Math.max(0, width - displayWidth(cut)))
  return align === 'left' ? cut + pad : pad + cut
}

// Drops escape sequences, for measuring or testing what a painted line shows.
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
}

// Resque payloads are JSON written by Ruby, whose integers have no size limit: an integer a JS number cannot hold
// exactly (beyond 2^53) is read as a bigint, and written back as the same digits.

// Every integer outside Number's safe range has at least 16 digits: payloads without such a run take the fast path.
const LONG_DIGITS = /\d{16}/
// A JSON string (skipped whole, so digits inside it are left alone) or a number literal.
const TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g
// Stands in for a big integer between the scan and JSON.parse's reviver; NUL keeps it apart from real keys.
const BIG_MARK = '\u0000bigint'

function isBigMark(value: unknown): value is Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const keys = Object.keys(value)
  return keys.length === 1 && keys[0] === BIG_MARK
}

// JSON.parse, but integers beyond Number.MAX_SAFE_INTEGER come back as bigints with every digit. Throws as JSON.parse.
export function parseJobJson(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text) as unknown
  let big = false
  const marked = text.replace(TOKEN, (token) => {
    if (token[0] === '"' || /[.eE]/.test(token) || Number.isSafeInteger(Number(token))) return token
    big = true
    return `{${JSON.stringify(BIG_MARK)}:"${token}"}`
  })
  if (!big) return JSON.parse(text) as unknown
  // A malformed text must fail as itself, not as the marked copy.
  JSON.parse(text)
  return JSON.parse(marked, (_key, value: unknown) => (isBigMark(value) ? BigInt(value[BIG_MARK]) : value))
}

// JSON.stringify, with bigints written as their digits (JSON.stringify throws on them).
export function stringifyJobJson(value: unknown): string {
  if (!containsBigInt(value)) return JSON.stringify(value)
  return encode(value) ?? 'null'
}

function containsBigInt(value: unknown): boolean {
  if (typeof value === 'bigint') return true
  if (typeof value !== 'object' || value === null) return false
  return Object.values(value).some(containsBigInt)
}

// JSON.stringify's rules for what parseJobJson produces (plain objects, arrays, primitives), plus bigints.
function encode(value: unknown): string | undefined {
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return `[${value.map((item) => encode(item) ?? 'null').join(',')}]`
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { toJSON?: unknown }).toJSON !== 'function'
  ) {
    const fields = Object.entries(value).flatMap(([key, item]) => {
      const text = encode(item)
      return text === undefined ? [] : [`${JSON.stringify(key)}:${text}`]
    })
    return `{${fields.join(',')}}`
  }
  return JSON.stringify(value) as string | undefined
}

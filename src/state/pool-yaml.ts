// pool.yml's own YAML: block mappings and sequences indented by two, strings plain where YAML would read
// them back as the same string and JSON-quoted elsewhere. Writing it and reading it back needs no YAML
// library, which costs a command that rewrites pool.yml (`rpd scale`) some 25 ms the first time it parses.
// Anything else in the file (a comment, a flow mapping, an anchor: a hand edit) is read by the yaml
// package, so every YAML document means what YAML says it means.
import { yaml } from './yaml.js'

type Value = null | boolean | number | string | Value[] | { [key: string]: Value }

// Strings YAML reads back as themselves when written bare: starting with a letter, _ or /, words of
// characters that mean nothing in a block scalar, one space apart, no ": " and no ":" at the end.
const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./@%+,=:-]*(?: [A-Za-z0-9_./@%+,=:-]+)*$/
// YAML 1.2's core schema reads these as booleans and null.
const RESERVED = new Set(['true', 'True', 'TRUE', 'false', 'False', 'FALSE', 'null', 'Null', 'NULL'])
const PLAIN_KEY = /^[A-Za-z_/][A-Za-z0-9_./@%+,=-]*$/
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/

// An automatic group's range (`2..4`), which YAML reads as a string though it starts with a digit.
const RANGE = /^\d+\.\.\d+$/

function plainString(text: string, key: boolean): boolean {
  if (RESERVED.has(text)) return false
  if (!key && RANGE.test(text)) return true
  if (key) return PLAIN_KEY.test(text)
  return PLAIN.test(text) && !/:(?: |$)/.test(text)
}

// A JSON string, with what YAML does not allow raw in a quoted scalar (or reads as a line break) escaped.
function quoted(text: string): string {
  return JSON.stringify(text).replace(
    /[\u007f-\u00a0\u2028\u2029\ufeff\ufffe\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

function scalarText(value: null | boolean | number | string): string {
  if (typeof value === 'string') return plainString(value, false) ? value : quoted(value)
  if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`cannot write ${value}`)
  return String(value)
}

function keyText(key: string): string {
  return plainString(key, true) ? key : quoted(key)
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function entries(value: Record<string, unknown>): [string, unknown][] {
  return Object.entries(value).filter(([, v]) => v !== undefined)
}

// A value after `key:` or `- `: on the same line when it is a scalar or empty, else on the next lines.
function emitValue(value: unknown, indent: string, out: string[], lead: string): void {
  if (Array.isArray(value)) {
    if (value.length === 0) return void out.push(`${lead} []`)
    out.push(lead)
    for (const item of value) emitItem(item, indent, out)
  } else if (isMapping(value)) {
    const list = entries(value)
    if (list.length === 0) return void out.push(`${lead} {}`)
    out.push(lead)
    emitMapping(list, indent, out)
  } else out.push(`${lead} ${scalarText(value as null | boolean | number | string)}`)
}

function emitMapping(list: [string, unknown][], indent: string, out: string[], first = indent): void {
  list.forEach(([key, value], i) =>
    emitValue(value, `${indent}  `, out, `${i === 0 ? first : indent}${keyText(key)}:`),
  )
}

function emitItem(item: unknown, indent: string, out: string[]): void {
  if (isMapping(item) && entries(item).length > 0)
    emitMapping(entries(item), `${indent}  `, out, `${indent}- `)
  // A sequence in a sequence is written as JSON, which YAML reads as a flow sequence.
  else if (Array.isArray(item) && item.length > 0) out.push(`${indent}- ${JSON.stringify(item)}`)
  else emitValue(item, `${indent}  `, out, `${indent}-`)
}

// A JSON-like document as pool.yml's YAML.
export function stringifyPoolYaml(doc: Record<string, unknown>): string {
  const out: string[] = []
  emitMapping(entries(doc), '', out)
  return out.length ? `${out.join('\n')}\n` : '{}\n'
}

// Reading back exactly what stringifyPoolYaml writes; NotOurs for anything else.
class NotOurs extends Error {}

function scalarOf(text: string): Value {
  if (text === '{}') return {}
  if (text === '[]') return []
  if (text.startsWith('"')) {
    try {
      const value: unknown = JSON.parse(text)
      if (typeof value === 'string') return value
    } catch {
      // Not JSON: YAML's own escapes, or a quote inside. The yaml package reads it.
    }
    throw new NotOurs()
  }
  if (text === 'true' || text === 'false') return text === 'true'
  if (text === 'null') return null
  if (NUMBER.test(text)) return Number(text)
  if (plainString(text, false)) return text
  throw new NotOurs()
}

function keyOf(text: string): string {
  if (text.startsWith('"')) {
    const key = scalarOf(text)
    if (typeof key === 'string') return key
  } else if (plainString(text, true)) return text
  throw new NotOurs()
}

const KEY_LINE = /^((?:"(?:[^"\\]|\\.)*")|[^\s":][^\s:]*):(?: (.*))?$/

class Reader {
  at = 0
  constructor(private readonly lines: string[]) {}

  // The line at this.at if it starts at exactly indent, without that indent.
  lineAt(indent: number): string | undefined {
    const line = this.lines[this.at]
    if (line === undefined) return undefined
    const spaces = line.length - line.trimStart().length
    if (spaces < indent) return undefined
    if (spaces > indent || line.trimEnd() !== line || line.includes('\t')) throw new NotOurs()
    return line.slice(indent)
  }

  // The value after `key:` with nothing on its line: a block at indent + 2 on the next lines.
  nested(indent: number): Value {
    this.at++
    const next = this.lines[this.at]
    if (next === undefined || !next.startsWith(' '.repeat(indent + 2))) throw new NotOurs()
    return next.slice(indent + 2).startsWith('- ') ? this.sequence(indent + 2) : this.mapping(indent + 2)
  }

  // The mapping at indent; when first is given, its first entry is that text (after a `- `).
  mapping(indent: number, first?: string): { [key: string]: Value } {
    const result: { [key: string]: Value } = {}
    for (let line = first ?? this.lineAt(indent); line !== undefined; line = this.lineAt(indent)) {
      const match = KEY_LINE.exec(line)
      if (!match) throw new NotOurs()
      const key = keyOf(match[1])
      if (Object.hasOwn(result, key) || key === '__proto__') throw new NotOurs()
      if (match[2] === undefined) result[key] = this.nested(indent)
      else {
        if (match[2] === '' || match[2].startsWith(' ')) throw new NotOurs()
        result[key] = scalarOf(match[2])
        this.at++
      }
    }
    return result
  }

  sequence(indent: number): Value[] {
    const result: Value[] = []
    for (let line = this.lineAt(indent); line?.startsWith('- '); line = this.lineAt(indent)) {
      const rest = line.slice(2)
      if (rest === '' || rest.startsWith(' ')) throw new NotOurs()
      if (KEY_LINE.test(rest)) result.push(this.mapping(indent + 2, rest))
      else {
        result.push(scalarOf(rest))
        this.at++
      }
    }
    return result
  }
}

// What stringifyPoolYaml wrote, read back; undefined for any other text.
export function readWrittenPoolYaml(text: string): Value | undefined {
  if (!text.endsWith('\n')) return undefined
  const lines = text.slice(0, -1).split('\n')
  if (lines.length === 1 && lines[0] === '{}') return {}
  try {
    const reader = new Reader(lines)
    const doc = reader.mapping(0)
    return reader.at === lines.length ? doc : undefined
  } catch (error) {
    if (error instanceof NotOurs) return undefined
    throw error
  }
}

// pool.yml's text as a document: read directly when it is as rpd writes it, else by the yaml package
// (which throws on YAML that is not valid).
export function parsePoolYaml(text: string): unknown {
  return readWrittenPoolYaml(text) ?? yaml().parse(text)
}

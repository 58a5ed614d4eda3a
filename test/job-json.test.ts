import { describe, expect, it } from 'vitest'
import { parseJobJson, stringifyJobJson } from '../src/resque/job-json.js'

describe('parseJobJson', () => {
  it.each([
    ['{"class":"A","args":[1,"x",null]}', { class: 'A', args: [1, 'x', null] }],
    ['9007199254740991', 9007199254740991],
    ['-9007199254740991', -9007199254740991],
    ['9007199254740992', 9007199254740992n],
    ['-9007199254740993', -9007199254740993n],
    ['12345678901234567890', 12345678901234567890n],
    [
      '[1180591620717411303424,{"id":99999999999999999999}]',
      [1180591620717411303424n, { id: 99999999999999999999n }],
    ],
    ['[1.0e+20,1234567890123456.5,1e400]', [1e20, 1234567890123456.5, Infinity]],
    [
      '["12345678901234567890","a\\"12345678901234567890"]',
      ['12345678901234567890', 'a"12345678901234567890'],
    ],
    ['{"12345678901234567890":1}', { '12345678901234567890': 1 }],
    ['{"a\\\\":12345678901234567890}', { 'a\\': 12345678901234567890n }],
    ['{"x":1234567890123456}', { x: 1234567890123456 }],
    ['"héllo 日本"', 'héllo 日本'],
  ])('%s', (text, expected) => {
    expect(parseJobJson(text)).toEqual(expected)
  })

  it('keeps a real object that happens to have one key', () => {
    expect(parseJobJson('{"bigint":"1","n":12345678901234567890}')).toEqual({
      bigint: '1',
      n: 12345678901234567890n,
    })
  })

  it.each(['{', '[12345678901234567890', '{"a":12345678901234567890,}', 'x12345678901234567890'])(
    'throws on malformed %s as JSON.parse does',
    (text) => {
      expect(() => parseJobJson(text)).toThrow(SyntaxError)
    },
  )
})

describe('stringifyJobJson', () => {
  it.each([
    ['{"class":"A","args":[1,"x",null]}', { class: 'A', args: [1, 'x', null] }],
    ['12345678901234567890', 12345678901234567890n],
    ['[-9007199254740993,2.5,"é"]', [-9007199254740993n, 2.5, 'é']],
    ['{"a":{"b":[1,null]}}', { a: { b: [1n, undefined] }, skip: undefined }],
    ['"text"', 'text'],
  ])('%s', (text, value) => {
    expect(stringifyJobJson(value)).toBe(text)
  })

  it('round-trips what parseJobJson reads', () => {
    for (const text of [
      '{"class":"A","args":[12345678901234567890,{"x":[-99999999999999999999]},"s",1.5,true,null]}',
      '{"queue":"foo","run_at":"2026-12-01T00:00:00Z","payload":{"class":"B","args":[1180591620717411303424]}}',
    ])
      expect(stringifyJobJson(parseJobJson(text))).toBe(text)
  })
})

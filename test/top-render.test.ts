import { describe, expect, it } from 'vitest'
import { displayWidth, formatFrame, stripAnsi, truncateToWidth, useColour } from '../src/present/terminal.js'
import {
  KEY_HELP,
  type TopGroup,
  type TopView,
  formatBytes,
  formatDuration,
  formatRate,
  formatSeconds,
  renderTop,
  sparkline,
} from '../src/present/top.js'

const NOW = Date.parse('2026-12-01T12:00:00Z')
const MB = 1024 * 1024

function groupOf(name: string, workers: number, extra: Partial<TopGroup> = {}): TopGroup {
  return {
    name,
    current: workers,
    desired: workers,
    jobsPerSecond: [1, 2, 3, 4],
    latencySeconds: [0.5, 1, null, 2],
    workers: Array.from({ length: workers }, (_, i) => ({
      pid: 1000 + i,
      state: i % 2 ? 'idle' : 'busy',
      job: i % 2 ? null : { class: `Job${i}`, runningSeconds: 5 + i },
      rssBytes: (50 + i) * MB,
      cpuPercent: 10 * i,
    })),
    ...extra,
  }
}

function viewOf(overrides: Partial<TopView> = {}): TopView {
  return {
    now: NOW,
    pool: { state: 'running', pid: 4242, uptimeSeconds: 3725, paused: false },
    groups: [
      groupOf('images', 3, { desired: 4, current: 3, min: 1, max: 8, jobsPerSecond: [0, 1, 2, 4, 8, 12.3] }),
      groupOf('mail,sms', 1),
    ],
    queues: [
      { name: 'images', depth: 120, latencySeconds: 2.1 },
      { name: 'mail', depth: 0, latencySeconds: null },
    ],
    decisions: [
      { at: NOW - 95_000, kind: 'schedule', text: 'images min 1 → 2 (weekday 09:00)' },
      { at: NOW - 30_000, kind: 'guard', text: 'memory refused images +1: free 400M < 512M' },
      { at: NOW - 12_000, kind: 'autoscale', text: 'images up 2 → 4: latency 12s > 5s' },
    ],
    ...overrides,
  }
}

function expectFits(lines: string[], rows: number, columns: number): void {
  expect(lines).toHaveLength(rows)
  for (const line of lines) {
    const visible = stripAnsi(line)
    expect(displayWidth(visible), JSON.stringify(line)).toBeLessThanOrEqual(columns)
    expect(visible, JSON.stringify(line)).not.toMatch(/\s$/)
    // eslint-disable-next-line no-control-regex
    expect(visible).not.toMatch(/[\x00-\x1f\x7f]/)
  }
}

const SIZES: [number, number][] = [
  [20, 80],
  [10, 40],
  [50, 200],
  [24, 80],
  [5, 30],
  [3, 20],
  [2, 10],
  [1, 80],
  [40, 12],
]

describe('renderTop', () => {
  it.each(SIZES)('fills exactly %i rows of at most %i columns', (rows, columns) => {
    const lines = renderTop(viewOf(), { rows, columns }, { selected: 0 })
    expectFits(lines, rows, columns)
  })

  it.each(SIZES)('fits %ix%i with colour too (escapes do not count as width)', (rows, columns) => {
    const lines = renderTop(viewOf(), { rows, columns }, { selected: 1, colour: true })
    expectFits(lines, rows, columns)
    expect(lines.join('')).toContain('\x1b[')
  })

  it('renders no lines for no rows', () => {
    expect(renderTop(viewOf(), { rows: 0, columns: 80 }, { selected: 0 })).toEqual([])
  })

  it('shows the pool header, groups, workers, queues, decisions and the key help in 20x80', () => {
    const lines = renderTop(viewOf(), { rows: 20, columns: 80 }, { selected: 0 })
    expect(lines[0]).toBe('rpd top  running  pid 4242  up 1h02m  2 groups  4 workers')
    expect(lines[19]).toBe(KEY_HELP)
    const text = lines.join('\n')
    expect(text).toMatch(/^> images +3\/4 +1\.\.8 .*12\/s .*2\.0s$/m)
    expect(text).toMatch(/^ {2}mail,sms +1\/1 +fixed /m)
    expect(text).toMatch(/^ {4}1000 +busy +Job0 +5s +50M +0%$/m)
    expect(text).toMatch(/^ {4}1001 +idle +- +51M +10%$/m)
    expect(text).toMatch(/^QUEUES {2}images 120 \(2\.1s\) {2}mail 0$/m)
    expect(text).toMatch(/^RECENT DECISIONS$/m)
    // Newest first, each with its age.
    const decisions = lines.filter((line) => / ago /.test(line))
    expect(decisions).toEqual([
      '     12s ago  autoscale images up 2 → 4: latency 12s > 5s',
      '     30s ago  guard     memory refused images +1: free 400M < 512M',
      '   1m35s ago  schedule  images min 1 → 2 (weekday 09:00)',
    ])
  })

  it('marks the selected group and only that one', () => {
    for (const selected of [0, 1]) {
      const lines = renderTop(viewOf(), { rows: 20, columns: 80 }, { selected })
      const marked = lines.filter((line) => line.startsWith('> '))
      expect(marked).toHaveLength(1)
      expect(marked[0]).toMatch(selected === 0 ? /^> images / : /^> mail,sms /)
    }
  })

  it('keeps the selection within the groups', () => {
    expect(
      renderTop(viewOf(), { rows: 20, columns: 80 }, { selected: 9 }).find((l) => l.startsWith('> ')),
    ).toMatch(/^> mail,sms/)
    expect(
      renderTop(viewOf(), { rows: 20, columns: 80 }, { selected: -3 }).find((l) => l.startsWith('> ')),
    ).toMatch(/^> images/)
  })

  it('shows the selected row in inverse video with colour', () => {
    const lines = renderTop(viewOf(), { rows: 20, columns: 80 }, { selected: 1, colour: true })
    const row = lines.find((line) => stripAnsi(line).startsWith('> '))
    // eslint-disable-next-line no-control-regex
    expect(row).toMatch(/^\x1b\[7m> mail,sms.*\x1b\[0m$/)
  })

  it('truncates long group names, job classes and decisions with an ellipsis', () => {
    const long = 'a-group-name-much-longer-than-any-column-could-hold'
    const view = viewOf({
      groups: [
        groupOf(long, 1, {
          workers: [
            {
              pid: 7,
              state: 'busy',
              job: { class: 'Mailer::DeliverNewsletterToEveryoneWhoEverSignedUpForIt', runningSeconds: 4000 },
              rssBytes: 1.5 * 1024 * MB,
              cpuPercent: 99.6,
            },
          ],
        }),
      ],
      decisions: [{ at: NOW - 1000, kind: 'autoscale', text: 'x'.repeat(300) }],
    })
    for (const [rows, columns] of SIZES) {
      const lines = renderTop(view, { rows, columns }, { selected: 0 })
      expectFits(lines, rows, columns)
      expect(lines.join('\n')).not.toContain(long)
    }
    const text = renderTop(view, { rows: 20, columns: 80 }, { selected: 0 }).join('\n')
    expect(text).toMatch(/^> a-group-name-much-longe… 1\/1 /m)
    expect(text).toMatch(/Mailer::DeliverNewslet\S*… +1h06m +1\.5G +100%$/m)
    expect(text).toMatch(/^ +1s ago {2}autoscale x+…$/m)
  })

  it('shows newlines and other control characters in names as ?', () => {
    const view = viewOf({
      groups: [groupOf('bad\nname\x1b[2J', 1)],
      queues: [{ name: 'q\r\nx', depth: 3, latencySeconds: 1 }],
    })
    const lines = renderTop(view, { rows: 20, columns: 80 }, { selected: 0 })
    expectFits(lines, 20, 80)
    expect(lines.join('\n')).toContain('> bad?name?[2J')
    expect(lines.join('\n')).toContain('QUEUES  q??x 3')
  })

  it('measures wide characters as two cells', () => {
    const view = viewOf({ groups: [groupOf('画像処理グループ名前がとても長い', 1)] })
    for (const [rows, columns] of SIZES)
      expectFits(renderTop(view, { rows, columns }, { selected: 0 }), rows, columns)
  })

  it('on a short screen drops workers before groups, and keeps the selected group in view', () => {
    const groups = Array.from({ length: 30 }, (_, i) => groupOf(`g${i}`, 2))
    const lines = renderTop(viewOf({ groups }), { rows: 10, columns: 80 }, { selected: 25 })
    expectFits(lines, 10, 80)
    expect(lines.filter((line) => /^ {4}\d/.test(line))).toEqual([])
    expect(lines.some((line) => line.startsWith('> g25 '))).toBe(true)
    expect(lines[9]).toBe(KEY_HELP)
  })

  it('caps the workers per group when not all fit, saying how many more', () => {
    const view = viewOf({ groups: [groupOf('big', 40), groupOf('small', 1)], decisions: [], queues: [] })
    const lines = renderTop(view, { rows: 15, columns: 80 }, { selected: 0 })
    expectFits(lines, 15, 80)
    const workers = lines.filter((line) => /^ {4}\d/.test(line))
    const more = lines.find((line) => /^ {4}… \d+ more$/.test(line))
    expect(more).toBeDefined()
    expect(workers.length + Number(/(\d+) more/.exec(more!)![1])).toBe(41)
    expect(lines.some((line) => /^ {4}1000 +busy/.test(line))).toBe(true)
    expect(lines.some((line) => line.startsWith('  small '))).toBe(true)
  })

  it('shows every worker when there is room', () => {
    const lines = renderTop(viewOf(), { rows: 50, columns: 200 }, { selected: 0 })
    expect(lines.filter((line) => /^ {4}\d/.test(line))).toHaveLength(4)
    expect(lines.filter((line) => / ago /.test(line))).toHaveLength(3)
  })

  it('shows at most the five newest decisions', () => {
    const decisions = Array.from({ length: 9 }, (_, i) => ({
      at: NOW - (9 - i) * 1000,
      kind: 'autoscale',
      text: `d${i}`,
    }))
    const lines = renderTop(viewOf({ decisions }), { rows: 50, columns: 100 }, { selected: 0 })
    expect(lines.filter((line) => / ago /.test(line)).map((line) => line.split(' ').pop())).toEqual([
      'd8',
      'd7',
      'd6',
      'd5',
      'd4',
    ])
  })

  it('draws sparklines on a wide screen and drops them on a narrow one', () => {
    const wide = renderTop(viewOf(), { rows: 20, columns: 120 }, { selected: 0 }).join('\n')
    expect(wide).toMatch(/▁▂▃▄▆█ +12\/s/)
    const narrow = renderTop(viewOf(), { rows: 20, columns: 40 }, { selected: 0 }).join('\n')
    expect(narrow).not.toMatch(/[▁▂▃▄▅▆▇█]/)
  })

  it('says PAUSED, and shows a message above the key help', () => {
    const view = viewOf({
      pool: { state: 'running', pid: 1, uptimeSeconds: 5, paused: true },
      message: 'images: 4 → 5',
    })
    const lines = renderTop(view, { rows: 20, columns: 80 }, { selected: 0 })
    expect(lines[0]).toMatch(/ {2}PAUSED$/)
    expect(lines.slice(-2)).toEqual(['images: 4 → 5', KEY_HELP])
  })

  it('renders a pool with no groups, and one not running', () => {
    const view = viewOf({
      pool: { state: 'stopped', pid: null, uptimeSeconds: null, paused: false },
      groups: [],
      queues: [],
      decisions: [],
    })
    const lines = renderTop(view, { rows: 10, columns: 60 }, { selected: 0 })
    expectFits(lines, 10, 60)
    expect(lines[0]).toBe('rpd top  stopped  0 groups  0 workers')
    expect(lines).toContain('  (no groups)')
  })

  it('highlights a group below its desired count in colour', () => {
    const lines = renderTop(viewOf(), { rows: 20, columns: 80 }, { selected: 1, colour: true })
    expect(lines.find((line) => stripAnsi(line).startsWith('  images'))).toContain('\x1b[33m3/4')
  })
})

describe('sparkline', () => {
  it.each<[(number | null)[], number, string]>([
    [[0, 1, 2, 3, 4, 5, 6, 7], 8, '▁▂▃▄▅▆▇█'],
    [[0, 7], 2, '▁█'],
    [[1, 1, 1], 3, '███'],
    [[0, 0, 0], 3, '▁▁▁'],
    [[], 4, '    '],
    [[5], 4, '   █'],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3, '▇██'],
    [[4, null, 8], 3, '▅ █'],
    [[Number.NaN, Infinity, 2], 3, '  █'],
    [[-3, 0, 3], 3, '▁▁█'],
    [[0.001, 100], 2, '▂█'],
    [[1, 2], 0, ''],
    [[1, 2], -5, ''],
  ])('%j in %i cells -> %j', (values, width, expected) => {
    expect(sparkline(values, width)).toBe(expected)
  })

  it('scales to a given maximum', () => {
    expect(sparkline([1, 2, 4], 3, 8)).toBe('▂▃▅')
    expect(sparkline([16], 1, 8)).toBe('█')
  })

  it('is always exactly width cells', () => {
    for (let width = 0; width < 40; width++)
      for (const length of [0, 1, width, width + 7])
        expect(
          sparkline(
            Array.from({ length }, (_, i) => i % 5),
            width,
          ),
        ).toHaveLength(width)
  })
})

describe('formatting', () => {
  it.each([
    [0, '0s'],
    [59.9, '59s'],
    [60, '1m00s'],
    [185, '3m05s'],
    [3725, '1h02m'],
    [90_000, '1d01h'],
    [-5, '0s'],
  ])('formatDuration(%d) = %s', (seconds, text) => expect(formatDuration(seconds)).toBe(text))

  it.each<[number | null, string]>([
    [null, '-'],
    [0.45, '450ms'],
    [2.16, '2.1s'],
    [42.9, '42s'],
    [720, '12m'],
    [7300, '2h'],
  ])('formatSeconds(%j) = %s', (seconds, text) => expect(formatSeconds(seconds)).toBe(text))

  it.each<[number | null, string]>([
    [null, '-'],
    [0, '0/s'],
    [2.5, '2.5/s'],
    [12.3, '12/s'],
    [1234, '1.2k/s'],
  ])('formatRate(%j) = %s', (rate, text) => expect(formatRate(rate)).toBe(text))

  it.each<[number | null, string]>([
    [null, '-'],
    [512, '512B'],
    [2048, '2.0K'],
    [85 * MB, '85M'],
    [1.5 * 1024 * MB, '1.5G'],
  ])('formatBytes(%j) = %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text))
})

describe('terminal', () => {
  it.each<[{ isTTY?: boolean }, Record<string, string | undefined>, boolean]>([
    [{ isTTY: true }, {}, true],
    [{ isTTY: true }, { TERM: 'xterm-256color' }, true],
    [{ isTTY: true }, { NO_COLOR: '1' }, false],
    [{ isTTY: true }, { NO_COLOR: '' }, true],
    [{ isTTY: true }, { TERM: 'dumb' }, false],
    [{ isTTY: false }, {}, false],
    [{}, {}, false],
  ])('useColour(%j, %j) = %s', (stream, env, colour) => expect(useColour(stream, env)).toBe(colour))

  it('redraws every line in place, clearing leftovers but not the last cell of a full line', () => {
    expect(formatFrame(['ab', 'abcd', ''], 4)).toBe('\x1b[1;1Hab\x1b[K\x1b[2;1Habcd\x1b[3;1H\x1b[J')
    expect(formatFrame(['abcd', 'ab'], 4)).toBe('\x1b[1;1Habcd\x1b[2;1Hab\x1b[J')
    expect(formatFrame(['ab', 'abcd'], 4)).toBe('\x1b[1;1Hab\x1b[K\x1b[2;1H\x1b[Jabcd')
    expect(formatFrame([], 4)).toBe('\x1b[H\x1b[J')
    expect(formatFrame(['\x1b[1mab\x1b[0m'], 2)).toBe('\x1b[1;1H\x1b[J\x1b[1mab\x1b[0m')
  })

  it.each([
    ['hello', 10, 'hello'],
    ['hello', 5, 'hello'],
    ['hello!', 5, 'hell…'],
    ['hello', 1, '…'],
    ['hello', 0, ''],
    ['画像処理', 5, '画像…'],
    ['画像処理', 8, '画像処理'],
  ])('truncateToWidth(%j, %i) = %j', (text, width, out) => expect(truncateToWidth(text, width)).toBe(out))
})

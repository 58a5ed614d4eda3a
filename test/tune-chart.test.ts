import { describe, expect, it } from 'vitest'
import { type ChartProbe, renderChart, renderSvg, renderTable } from '../src/tune/chart.js'
import { fitUsl } from '../src/tune/usl.js'

type XmlElement = { name: string; attributes: Record<string, string>; children: XmlElement[]; text: string }

// A strict reader for the XML subset an SVG uses; throws on anything that is not well-formed.
function parseXml(source: string): XmlElement {
  const checkText = (text: string) => {
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(text)) throw new Error(`bad entity in ${text}`)
  }
  const stack: XmlElement[] = []
  let root: XmlElement | undefined
  let rest = source.replace(/^<\?xml[^?]*\?>/, '')
  while (rest.length) {
    const lt = rest.indexOf('<')
    const text = lt === -1 ? rest : rest.slice(0, lt)
    checkText(text)
    if (text.trim()) {
      if (!stack.length) throw new Error(`text outside the root: ${text}`)
      stack[stack.length - 1].text += text
    }
    if (lt === -1) break
    rest = rest.slice(lt)
    if (rest.startsWith('<!--')) {
      const end = rest.indexOf('-->')
      if (end === -1) throw new Error('unclosed comment')
      rest = rest.slice(end + 3)
      continue
    }
    const close = /^<\/([A-Za-z][\w:.-]*)\s*>/.exec(rest)
    if (close) {
      const open = stack.pop()
      if (!open || open.name !== close[1]) throw new Error(`</${close[1]}> closes ${open?.name ?? 'nothing'}`)
      rest = rest.slice(close[0].length)
      continue
    }
    const tag = /^<([A-Za-z][\w:.-]*)((?:\s+[A-Za-z][\w:.-]*\s*=\s*"[^"<]*")*)\s*(\/?)>/.exec(rest)
    if (!tag) throw new Error(`malformed tag at ${rest.slice(0, 40)}`)
    const attributes: Record<string, string> = {}
    for (const [, name, value] of tag[2].matchAll(/([A-Za-z][\w:.-]*)\s*=\s*"([^"]*)"/g)) {
      if (name in attributes) throw new Error(`duplicate attribute ${name}`)
      checkText(value)
      attributes[name] = value
    }
    const element: XmlElement = { name: tag[1], attributes, children: [], text: '' }
    if (stack.length) stack[stack.length - 1].children.push(element)
    else if (root) throw new Error('a second root element')
    else root = element
    if (!tag[3]) stack.push(element)
    rest = rest.slice(tag[0].length)
  }
  if (stack.length) throw new Error(`unclosed <${stack[stack.length - 1].name}>`)
  if (!root) throw new Error('no root element')
  return root
}

function findAll(element: XmlElement, name: string): XmlElement[] {
  return [...(element.name === name ? [element] : []), ...element.children.flatMap((c) => findAll(c, name))]
}

const semaphore = (n: number) => 20 * Math.min(n, 3) * (1 - 0.015 * Math.max(0, n - 3))
const probes: ChartProbe[] = [1, 2, 4, 8, 5, 3].map((n) => ({
  workers: n,
  jobsPerSecond: semaphore(n),
  spread: 1.25,
  load: n / 4,
  memAvailable: 3 * 2 ** 30 - n * 2 ** 27,
  seconds: 8,
}))
const withTrip: ChartProbe[] = [
  ...probes,
  {
    workers: 12,
    jobsPerSecond: semaphore(12),
    load: 3.2,
    memAvailable: 2 ** 29,
    seconds: 6,
    guardTripped: 'max-load',
  },
]
const model = fitUsl(withTrip)!
const columns = (line: string) => [...line].length

describe('renderChart', () => {
  it('keeps every line within the width asked for', () => {
    for (const width of [30, 40, 60, 80, 120]) {
      for (const lines of [
        renderChart(withTrip, 3, { width, height: 10, model }),
        renderChart(probes, 3, { width }),
      ]) {
        for (const line of lines) expect(columns(line), `${width}: ${line}`).toBeLessThanOrEqual(width)
      }
    }
  })

  it('draws the height asked for between the title and the axis', () => {
    for (const height of [4, 8, 16]) {
      const lines = renderChart(probes, 3, { width: 80, height })
      const axis = lines.findIndex((l) => l.includes('└'))
      expect(axis - 1).toBe(height)
    }
  })

  it('marks the best count once, above its label on the axis', () => {
    const lines = renderChart(withTrip, 3, { width: 80, height: 12, model })
    const marked = lines.filter((l) => l.includes('┤') && l.includes('◆'))
    expect(marked).toHaveLength(1)
    const column = [...marked[0]].indexOf('◆')
    const labels = lines[lines.findIndex((l) => l.includes('└')) + 1]
    expect([...labels][column]).toBe('3')
    expect(lines.join('\n')).toContain('best: 3 workers')
  })

  it('puts the best mark on the top row when the best is the highest throughput', () => {
    const lines = renderChart(probes, 3, { width: 80, height: 12 })
    const rows = lines.slice(1, 13)
    const top = rows.findIndex((l) => /[●◆]/.test(l))
    expect(rows[top]).toContain('◆')
  })

  it('shows a count over a limit with its own mark and the fit only when given one', () => {
    const withModel = renderChart(withTrip, 3, { width: 80, model }).join('\n')
    expect(withModel).toContain('×')
    expect(withModel).toContain('over a limit')
    expect(withModel).toContain('·')
    const bare = renderChart(probes, 3, { width: 80 }).join('\n')
    expect(bare).not.toContain('×')
    expect(bare).not.toContain('·')
  })

  it('copes with one probe and with no probes', () => {
    const one = renderChart([{ workers: 4, jobsPerSecond: 12 }], 4, { width: 50, height: 5 })
    expect(one.join('\n')).toContain('◆')
    for (const line of one) expect(columns(line)).toBeLessThanOrEqual(50)
    expect(renderChart([], 1)).toEqual(['(no probes)'])
  })
})

describe('renderTable', () => {
  it('lists probes by count with aligned columns, the best and the guard that tripped', () => {
    const lines = renderTable(withTrip, 3)
    expect(lines[0]).toMatch(/^workers\s+jobs\/s\s+±\s+load\s+mem free\s+time$/)
    const rows = lines.slice(2)
    expect(rows.map((r) => Number(r.trim().split(/\s+/)[0]))).toEqual([1, 2, 3, 4, 5, 8, 12])
    expect(rows.find((r) => r.trim().startsWith('3 '))).toContain('← best')
    expect(rows.filter((r) => r.includes('best'))).toHaveLength(1)
    expect(rows[rows.length - 1]).toContain('over max-load')
    expect(rows[rows.length - 1]).toContain('512 MiB')
    expect(rows[0]).toContain('2.9 GiB')
    const end = lines[0].indexOf('jobs/s') + 'jobs/s'.length
    for (const row of rows) expect(row.slice(end - 4, end)).toMatch(/^[\d. ]*\d$/)
  })
})

describe('renderSvg', () => {
  it('is well-formed XML with a sized svg root', () => {
    const root = parseXml(renderSvg(withTrip, 3, model))
    expect(root.name).toBe('svg')
    expect(root.attributes.xmlns).toBe('http://www.w3.org/2000/svg')
    expect(Number(root.attributes.width)).toBeGreaterThan(0)
    expect(root.attributes.viewBox).toMatch(/^0 0 \d+ \d+$/)
  })

  it('draws a point per probe under the limits, a cross per count over one, the curve and the best', () => {
    const svg = renderSvg(withTrip, 3, model)
    const root = parseXml(svg)
    const points = findAll(root, 'circle').filter((c) => c.attributes.r === '4')
    // One more for the legend's sample point.
    expect(points).toHaveLength(probes.length + 1)
    const rings = findAll(root, 'circle').filter((c) => c.attributes.r === '8')
    expect(rings).toHaveLength(1)
    const curve = findAll(root, 'polyline')
    expect(curve).toHaveLength(1)
    const coordinates = curve[0].attributes.points.split(/[ ,]/).map(Number)
    expect(coordinates.every(Number.isFinite)).toBe(true)
    const texts = findAll(root, 'text').map((t) => t.text)
    expect(texts).toContain('best: 3 workers, 60.0 jobs/s')
    expect(texts).toContain('workers')
    expect(texts).toContain('jobs per second')
    expect(texts.some((t) => t.includes('over a limit'))).toBe(true)
    expect(svg).not.toMatch(/NaN|Infinity|undefined/)
  })

  it('puts the best ring on the best probe', () => {
    const root = parseXml(renderSvg(probes, 3, model))
    const ring = findAll(root, 'circle').find((c) => c.attributes.r === '8')!
    const points = findAll(root, 'circle').filter((c) => c.attributes.r === '4')
    const highest = points.reduce((a, b) => (Number(b.attributes.cy) < Number(a.attributes.cy) ? b : a))
    expect(ring.attributes.cx).toBe(highest.attributes.cx)
    expect(ring.attributes.cy).toBe(highest.attributes.cy)
  })

  it('draws no curve without a model and stays well-formed for a straight line to max', () => {
    const rising = [1, 2, 4, 8, 16].map((n) => ({ workers: n, jobsPerSecond: 10 * n }))
    expect(findAll(parseXml(renderSvg(rising, 16)), 'polyline')).toHaveLength(0)
    const svg = renderSvg(rising, 16, fitUsl(rising))
    expect(findAll(parseXml(svg), 'polyline')).toHaveLength(1)
    expect(svg).toContain('peak ∞')
  })

  it('the XML reader rejects what is not well-formed', () => {
    expect(() => parseXml('<svg><g></svg>')).toThrow()
    expect(() => parseXml('<svg a="1" a="2"/>')).toThrow()
    expect(() => parseXml('<svg>a & b</svg>')).toThrow()
    expect(() => parseXml('<svg x=1/>')).toThrow()
    expect(parseXml('<svg><g a="&amp;"/>x &lt; y</svg>').children).toHaveLength(1)
  })
})

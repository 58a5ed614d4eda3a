// Edit distance with a swap of two neighbours counted as one edit (optimal string alignment): `stauts` is one
// edit from `status`, two from `start`.
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)]
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      row[j] = Math.min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j], rows[i - 2][j - 2] + 1)
    }
    rows.push(row)
  }
  return rows[a.length][b.length]
}

// The known names a mistyped one most likely meant: those it begins or is begun by (`stat`, `log`), else the
// nearest within a few edits; none when nothing is near enough to be a typo.
export function suggestNames(typed: string, names: readonly string[], limit = 4): string[] {
  if (!typed) return []
  const prefixed = names.filter((name) => name.startsWith(typed) || typed.startsWith(name))
  if (prefixed.length) return prefixed.slice(0, limit)
  const near = Math.max(2, Math.floor(typed.length / 3))
  const ranked = names.map((name) => ({ name, d: editDistance(typed, name) })).filter(({ d }) => d <= near)
  const best = Math.min(...ranked.map(({ d }) => d))
  return ranked
    .filter(({ d }) => d === best)
    .map(({ name }) => name)
    .slice(0, limit)
}

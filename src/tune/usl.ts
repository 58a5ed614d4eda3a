// The Universal Scalability Law: X(N) = x1·N / (1 + alpha·(N−1) + beta·N·(N−1)).
// alpha is contention (serialised work), beta is coherency (crosstalk between workers).

export type ThroughputSample = { workers: number; jobsPerSecond: number }

export type UslModel = {
  // Throughput of one worker, jobs per second.
  x1: number
  alpha: number
  beta: number
  // The count where X(N) is highest: sqrt((1 − alpha) / beta); Infinity when beta is (nearly) zero.
  peak: number
  // Coefficient of determination of the fit on the measured throughputs (1 is a perfect fit).
  r2: number
}

// Below this, beta is treated as zero: the curve never turns down within any count rpd would run.
const BETA_ZERO = 1e-9
const REFINE_STEPS = 60

export function predictThroughput(model: Pick<UslModel, 'x1' | 'alpha' | 'beta'>, workers: number): number {
  const n = workers
  return (model.x1 * n) / (1 + model.alpha * (n - 1) + model.beta * n * (n - 1))
}

export function peakOf(alpha: number, beta: number): number {
  if (alpha >= 1) return 1
  if (beta <= BETA_ZERO) return Infinity
  return Math.sqrt((1 - alpha) / beta)
}

// Least-squares fit on the measured throughputs, alpha in [0, 1] and beta >= 0.
// Needs at least three distinct worker counts with positive throughput (three parameters);
// with fewer it returns undefined, and the caller goes by the measurements alone.
export function fitUsl(samples: readonly ThroughputSample[]): UslModel | undefined {
  const usable = samples.filter((s) => s.workers >= 1 && Number.isFinite(s.jobsPerSecond))
  const positive = usable.filter((s) => s.jobsPerSecond > 0)
  if (new Set(positive.map((s) => s.workers)).size < 3) return undefined
  const start = fitLinearised(positive)
  if (!start) return undefined
  const [x1, alpha, beta] = refine(usable, start)
  return { x1, alpha, beta, peak: peakOf(alpha, beta), r2: rSquared(usable, { x1, alpha, beta }) }
}

type Params = [x1: number, alpha: number, beta: number]

// N/X = c0 + c1·(N−1) + c2·N·(N−1) with c0 = 1/x1, c1 = alpha/x1, c2 = beta/x1: linear in c.
// Weighted by X²/N so each point counts about as much as its error in X would.
function fitLinearised(samples: readonly ThroughputSample[]): Params | undefined {
  const rows = samples.map((s) => {
    const n = s.workers
    const weight = (s.jobsPerSecond * s.jobsPerSecond) / n
    return { basis: [1, n - 1, n * (n - 1)], target: n / s.jobsPerSecond, weight }
  })
  // Active sets for the sign constraints: unconstrained, then with c1 or c2 or both pinned at zero.
  const subsets = [[0, 1, 2], [0, 2], [0, 1], [0]]
  let best: { params: Params; sse: number } | undefined
  for (const columns of subsets) {
    const c = solveWeighted(rows, columns)
    if (!c || c[0] <= 0 || c[1] < 0 || c[2] < 0) continue
    const params = clampParams([1 / c[0], c[1] / c[0], c[2] / c[0]])
    const sse = sumSquares(samples, params)
    if (!best || sse < best.sse) best = { params, sse }
  }
  return best?.params
}

function solveWeighted(
  rows: readonly { basis: number[]; target: number; weight: number }[],
  columns: readonly number[],
): number[] | undefined {
  const k = columns.length
  const a = Array.from({ length: k }, () => new Array<number>(k).fill(0))
  const b = new Array<number>(k).fill(0)
  for (const row of rows) {
    for (let i = 0; i < k; i++) {
      const wi = row.weight * row.basis[columns[i]]
      b[i] += wi * row.target
      for (let j = 0; j < k; j++) a[i][j] += wi * row.basis[columns[j]]
    }
  }
  const x = solveLinear(a, b)
  if (!x) return undefined
  const full = [0, 0, 0]
  columns.forEach((column, i) => (full[column] = x[i]))
  return full
}

// Gaussian elimination with partial pivoting; undefined when the system is singular.
export function solveLinear(matrix: readonly number[][], rhs: readonly number[]): number[] | undefined {
  const n = rhs.length
  const a = matrix.map((row, i) => [...row, rhs[i]])
  const scale = Math.max(...a.flat().map(Math.abs), Number.MIN_VALUE)
  for (let col = 0; col < n; col++) {
    let pivot = col
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r
    if (Math.abs(a[pivot][col]) <= scale * 1e-14) return undefined
    ;[a[col], a[pivot]] = [a[pivot], a[col]]
    for (let r = col + 1; r < n; r++) {
      const f = a[r][col] / a[col][col]
      for (let c = col; c <= n; c++) a[r][c] -= f * a[col][c]
    }
  }
  const x = new Array<number>(n).fill(0)
  for (let r = n - 1; r >= 0; r--) {
    let sum = a[r][n]
    for (let c = r + 1; c < n; c++) sum -= a[r][c] * x[c]
    x[r] = sum / a[r][r]
  }
  return x.every(Number.isFinite) ? x : undefined
}

// Levenberg-Marquardt on the residuals in X itself, projected back into the allowed box after each step.
function refine(samples: readonly ThroughputSample[], start: Params): Params {
  let params = start
  let sse = sumSquares(samples, params)
  let lambda = 1e-3
  for (let step = 0; step < REFINE_STEPS && sse > 0; step++) {
    const jtj = [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]
    const jtr = [0, 0, 0]
    for (const s of samples) {
      const n = s.workers
      const d = 1 + params[1] * (n - 1) + params[2] * n * (n - 1)
      const f = (params[0] * n) / d
      const grad = [n / d, (-params[0] * n * (n - 1)) / (d * d), (-params[0] * n * n * (n - 1)) / (d * d)]
      const r = s.jobsPerSecond - f
      for (let i = 0; i < 3; i++) {
        jtr[i] += grad[i] * r
        for (let j = 0; j < 3; j++) jtj[i][j] += grad[i] * grad[j]
      }
    }
    let improved = false
    while (lambda < 1e12) {
      const delta = solveDamped(jtj, jtr, lambda, params)
      if (delta) {
        const next = clampParams([params[0] + delta[0], params[1] + delta[1], params[2] + delta[2]])
        const nextSse = sumSquares(samples, next)
        if (nextSse < sse) {
          const gain = (sse - nextSse) / sse
          params = next
          sse = nextSse
          lambda = Math.max(lambda / 10, 1e-12)
          improved = gain > 1e-12
          break
        }
      }
      lambda *= 10
    }
    if (!improved) break
  }
  return params
}

// A parameter held at its bound by a step pushing outward stays fixed; the others take the step.
function solveDamped(jtj: number[][], jtr: number[], lambda: number, params: Params): number[] | undefined {
  const damped = jtj.map((row, i) => row.map((v, j) => (i === j ? v * (1 + lambda) : v)))
  let free = [0, 1, 2]
  for (let round = 0; round < 3; round++) {
    const solved = solveLinear(
      free.map((i) => free.map((j) => damped[i][j])),
      free.map((i) => jtr[i]),
    )
    if (!solved) return undefined
    const delta = [0, 0, 0]
    free.forEach((i, k) => (delta[i] = solved[k]))
    const pinned = free.filter((i) => atBound(i, params[i], delta[i]))
    if (pinned.length === 0) return delta
    free = free.filter((i) => !pinned.includes(i))
    if (free.length === 0) return undefined
  }
  return undefined
}

function atBound(index: number, value: number, step: number): boolean {
  if (index === 0) return false
  if (value <= 0 && step < 0) return true
  return index === 1 && value >= 1 && step > 0
}

function clampParams([x1, alpha, beta]: Params): Params {
  return [Math.max(x1, Number.MIN_VALUE), Math.min(Math.max(alpha, 0), 1), Math.max(beta, 0)]
}

function sumSquares(samples: readonly ThroughputSample[], [x1, alpha, beta]: Params): number {
  let sum = 0
  for (const s of samples) sum += (s.jobsPerSecond - predictThroughput({ x1, alpha, beta }, s.workers)) ** 2
  return sum
}

function rSquared(
  samples: readonly ThroughputSample[],
  model: Pick<UslModel, 'x1' | 'alpha' | 'beta'>,
): number {
  const mean = samples.reduce((sum, s) => sum + s.jobsPerSecond, 0) / samples.length
  const total = samples.reduce((sum, s) => sum + (s.jobsPerSecond - mean) ** 2, 0)
  const residual = sumSquares(samples, [model.x1, model.alpha, model.beta])
  if (total === 0) return residual === 0 ? 1 : 0
  return 1 - residual / total
}

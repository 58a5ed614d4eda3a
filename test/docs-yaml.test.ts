import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { ROOT } from './helpers/cli.js'

const DOC = path.join(ROOT, 'docs/kubernetes.md')

function extractBlocks(markdown: string, language: string): string[] {
  const blocks: string[] = []
  const fence = new RegExp('^```' + language + '\\s*\\n([\\s\\S]*?)^```\\s*$', 'gm')
  for (const match of markdown.matchAll(fence)) blocks.push(match[1]!)
  return blocks
}

interface Manifest {
  apiVersion?: unknown
  kind?: unknown
  metadata?: { name?: unknown }
  spec?: Record<string, unknown>
}

function readManifests(): Manifest[] {
  const manifests: Manifest[] = []
  for (const block of extractBlocks(fs.readFileSync(DOC, 'utf8'), 'yaml')) {
    for (const document of parseAllDocuments(block)) {
      expect(document.errors.map((error) => error.message)).toEqual([])
      const value = document.toJS() as Manifest | null
      if (value !== null) manifests.push(value)
    }
  }
  return manifests
}

interface Container {
  args?: string[]
}

describe('docs/kubernetes.md', () => {
  it('has yaml blocks, each a Kubernetes object with apiVersion, kind and a name', () => {
    const manifests = readManifests()
    expect(manifests.length).toBeGreaterThanOrEqual(6)
    for (const manifest of manifests) {
      expect(typeof manifest.apiVersion, JSON.stringify(manifest).slice(0, 80)).toBe('string')
      expect(manifest.apiVersion).toMatch(/^([a-z0-9.-]+\/)?v\d+(alpha\d+|beta\d+)?$/)
      expect(typeof manifest.kind).toBe('string')
      expect(typeof manifest.metadata?.name).toBe('string')
    }
    const kinds = new Set(manifests.map((manifest) => manifest.kind))
    for (const kind of ['Deployment', 'ScaledObject', 'HorizontalPodAutoscaler'])
      expect(kinds).toContain(kind)
  })

  it('gives every Deployment a grace period longer than rpd needs to stop', () => {
    const deployments = readManifests().filter((manifest) => manifest.kind === 'Deployment')
    expect(deployments.length).toBeGreaterThan(0)
    for (const deployment of deployments) {
      const pod = (deployment.spec!.template as { spec: Record<string, unknown> }).spec
      const grace = pod.terminationGracePeriodSeconds as number
      for (const container of pod.containers as Container[]) {
        const args = container.args ?? []
        const at = args.indexOf('--timeout')
        expect(at, `${String(deployment.metadata?.name)} sets --timeout`).toBeGreaterThanOrEqual(0)
        // Jobs get --timeout, TERM gets 10 s more before KILL; the pod must outlast both.
        expect(grace).toBeGreaterThan(Number(args[at + 1]) + 10)
      }
    }
  })

  it('points every scaler at a Deployment the page defines', () => {
    const manifests = readManifests()
    const names = new Set(manifests.filter((m) => m.kind === 'Deployment').map((m) => m.metadata?.name))
    for (const scaler of manifests.filter(
      (m) => m.kind === 'ScaledObject' || m.kind === 'HorizontalPodAutoscaler',
    )) {
      const target = scaler.spec!.scaleTargetRef as { name: string }
      expect(names).toContain(target.name)
    }
  })

  it('builds on node:20-slim and makes rpd run the main process in exec form', () => {
    const [dockerfile] = extractBlocks(fs.readFileSync(DOC, 'utf8'), 'dockerfile')
    expect(dockerfile).toMatch(/^FROM node:20-slim$/m)
    const entrypoint = /^ENTRYPOINT (.+)$/m.exec(dockerfile!)
    expect(JSON.parse(entrypoint![1]!)).toEqual(['node', '/app/bin/run.js', 'run'])
  })
})

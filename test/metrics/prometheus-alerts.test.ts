import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import {
  goodHitRateOf,
  HEALTH_WINDOW_MS,
  MIN_READS_TO_JUDGE,
  POOR_HIT_RATE,
  PUSHED_REFETCH_MS,
} from '../../src/features/stats/cache-health.js'
import { CACHES } from '../../src/features/caches/index.js'
import { type PlexApp, startService } from '../support/api-harness.js'
import { parsePrometheusText } from '../support/prometheus-text.js'
import { metricNamesOf } from '../support/promql.js'

// Debian's prometheus package (promtool) is ~100 MB with its web assets: the rule file is checked
// here instead, by its structure and against what a running service exports.
const RULES = new URL('../../docs/prometheus/alerts.yml', import.meta.url)

interface Rule {
  alert: string
  expr: string
  for?: string
  labels: Record<string, string>
  annotations: Record<string, string>
}

const file = parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> }
const rules = file.groups.flatMap((group) => group.rules)
const rule = (name: string) => rules.find((r) => r.alert === name)!
/** Matchers of a label in an expression: `cache="x"`, `cache!="x"`. */
const matchedValues = (expr: string, label: string) =>
  [...expr.matchAll(new RegExp(`\\b${label}\\s*!?=~?\\s*"([^"]*)"`, 'g'))].map((m) => m[1]!)

describe('docs/prometheus/alerts.yml', () => {
  let app: PlexApp
  beforeAll(async () => {
    app = await startService({ plex: true })
  })
  afterAll(() => app.close())

  it('is a Prometheus rule file: named groups of alerts with an expression, a severity and a summary', () => {
    expect(Object.keys(file)).toEqual(['groups'])
    expect(file.groups.length).toBeGreaterThan(0)
    for (const group of file.groups) {
      expect(group.name).toMatch(/^[\w-]+$/)
      for (const r of group.rules) {
        expect(Object.keys(r).sort(), r.alert).toEqual(
          ['alert', 'annotations', 'expr', 'labels', ...(r.for === undefined ? [] : ['for'])].sort(),
        )
        expect(r.alert).toMatch(/^[A-Z][A-Za-z]+$/)
        expect(r.for ?? '1m', r.alert).toMatch(/^\d+[smh]$/)
        expect(['info', 'warning', 'critical']).toContain(r.labels.severity)
        expect(r.annotations.summary, r.alert).toBeTruthy()
        // Balanced brackets: a cut-off expression does not load.
        for (const [open, close] of [
          ['(', ')'],
          ['{', '}'],
          ['[', ']'],
        ] as const)
          expect(r.expr.split(open).length, `${r.alert} ${open}${close}`).toBe(r.expr.split(close).length)
      }
    }
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length)
  })

  it('holds the thresholds of cache-health.ts', () => {
    const window = `[${HEALTH_WINDOW_MS / 60_000}m]`
    for (const r of rules.filter((r) => r.expr.includes('increase('))) expect(r.expr, r.alert).toContain(window)
    for (const r of rules.filter((r) => r.expr.includes('increase(cache_requests_total')))
      expect(r.expr, r.alert).toContain(`>= ${MIN_READS_TO_JUDGE}`)
    expect(rule('KomandorrCacheHitRatePoor').expr).toContain(`< ${POOR_HIT_RATE}`)
    const fair = rule('KomandorrCacheHitRateBelowGood').expr
    expect(fair).toContain(`<= ${goodHitRateOf('plex_activities')}`)
    expect(fair).toContain(`<= ${goodHitRateOf('watch_history')}`)
    expect(fair).toContain(`>= ${POOR_HIT_RATE}`)
    expect(rule('KomandorrCacheMissesInARow').expr).toContain(`ceil(${HEALTH_WINDOW_MS / 1000} /`)
    expect(rule('KomandorrCacheValueTooOld').expr).toContain(
      `clamp_min(max by (cache) (cache_ttl_seconds), ${PUSHED_REFETCH_MS / 1000})`,
    )
    expect(rule('KomandorrCacheLoadFailures').expr).toContain('{result="failure"}')
  })

  it('reads only metrics, label values and caches a running service exports', async () => {
    for (const path of [
      '/api/plex/sessions',
      '/api/plex/sessions',
      '/api/plex/activities',
      '/api/plex/stats/dashboard',
    ])
      expect((await app.fetch(path)).status).toBe(200)
    const samples = parsePrometheusText(await (await app.fetch('/metrics')).text())
    const exported = new Set(samples.map((s) => s.name))
    const used = new Set(rules.flatMap((r) => metricNamesOf(r.expr)))
    expect([...used].sort()).toEqual(
      ['cache_age_seconds', 'cache_entries', 'cache_loads_total', 'cache_requests_total', 'cache_ttl_seconds'].sort(),
    )
    expect([...used].filter((name) => !exported.has(name))).toEqual([])

    const labelValues = (label: string) =>
      new Set(samples.flatMap((s) => (s.labels[label] === undefined ? [] : [s.labels[label]])))
    const caches = labelValues('cache')
    for (const name of CACHES.map((c) => c.name)) expect(caches).toContain(name)
    const results = labelValues('result')
    for (const r of rules) {
      for (const cache of matchedValues(r.expr, 'cache')) expect(caches, r.alert).toContain(cache)
      for (const result of matchedValues(r.expr, 'result')) expect(results, r.alert).toContain(result)
    }
  })
})

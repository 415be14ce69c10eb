import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { SHARED_REDIS_URL, cleanUp, uniquePrefix } from '../redis/helpers.js'
import { type PlexApp, startService } from '../support/api-harness.js'
import { parsePrometheusText } from '../support/prometheus-text.js'

const DASHBOARD = new URL('../../docs/grafana/komandorr-cache.json', import.meta.url)

interface Panel {
  type: string
  title: string
  datasource?: { uid: string }
  targets?: Array<{ expr: string }>
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
])

/** Metric names a PromQL expression reads: identifiers outside label matchers, groupings and ranges that call nothing. */
function metricNamesOf(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\w+/g, ' ')
  const names: string[] = []
  for (const match of stripped.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = match
    if (call !== undefined || KEYWORDS.has(name!.toLowerCase())) continue
    names.push(name!)
  }
  return names
}

let setup: PlexApp | undefined
let prefix: string | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
  if (prefix !== undefined) await cleanUp(prefix)
})

describe('docs/grafana/komandorr-cache.json', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'))
  const panels: Panel[] = dashboard.panels
  const exprs = panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr))
  const variableQueries: string[] = dashboard.templating.list.map(
    (variable: { definition: string }) => variable.definition,
  )

  it('is importable as is: one ${DS_PROMETHEUS} input that every panel and query uses', () => {
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    ])
    expect(dashboard.id).toBeNull()
    for (const panel of panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource?.uid, panel.title).toBe('${DS_PROMETHEUS}')
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0)
    }
    const titles = panels.map((p) => p.title)
    for (const wanted of [
      'Hit rate per cache',
      'Plex calls per minute vs client requests per minute',
      'Load latency percentiles',
      'Breaker state',
      'Sessions by state',
      'Bandwidth (LAN / WAN)',
    ]) {
      expect(titles).toContain(wanted)
    }
  })

  it('reads the metric names of a query, not its functions, labels or groupings', () => {
    expect(
      metricNamesOf(
        'histogram_quantile(0.5, sum by (le, cache) (rate(cache_load_duration_seconds_bucket{instance=~"$instance"}[$__rate_interval])))',
      ),
    ).toEqual(['cache_load_duration_seconds_bucket'])
    expect(metricNamesOf('sum(rate(a_total[5m])) * 60 / on (x) b_gauge')).toEqual(['a_total', 'b_gauge'])
  })

  it('queries only metrics a running service exports (with Redis, after traffic against the simulator)', async () => {
    prefix = uniquePrefix('grafana')
    setup = await startService({
      plex: true,
      env: { REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix, REDIS_TIMEOUT_MS: '1000' },
    })
    await setup.runtime.redis!.whenConnected(10_000)
    setup.sim.control.startSession({ kind: 'movie', transcode: true })
    for (const path of [
      '/api/plex/sessions',
      '/api/plex/sessions',
      '/api/plex/stats/live',
      '/api/plex/activities',
      '/api/plex/users/count',
    ]) {
      expect((await setup.fetch(path)).status).toBe(200)
    }
    const exported = new Set(parsePrometheusText(await (await setup.fetch('/metrics')).text()).map((s) => s.name))

    const queried = new Set(
      [...exprs, ...variableQueries.map((q) => q.replace(/^label_values\(([^,]+),.*$/, '$1'))].flatMap(metricNamesOf),
    )
    expect(queried.size).toBeGreaterThan(15)
    const missing = [...queried].filter((name) => !exported.has(name))
    expect(missing).toEqual([])
  })
})

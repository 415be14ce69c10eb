import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  answerOf,
  RECORDED_TOKEN,
  recordedDir,
  startMirror,
  startRecordedPms,
  type MirrorApp,
  type RecordedPms,
} from './harness.js'

interface RecordedRoute {
  path: string
  format: 'json' | 'xml'
  variant?: string
  query?: Record<string, Array<string | null>>
  auth?: boolean
}

interface Probe {
  readonly name: string
  readonly target: string
  readonly headers: Record<string, string>
}

/** One request per recording, in both formats: the query its route matches, its variant in the query. */
function probes(): Probe[] {
  const table = JSON.parse(readFileSync(join(recordedDir(), 'data', 'routes.json'), 'utf8')) as {
    routes: RecordedRoute[]
  }
  const out: Probe[] = []
  for (const route of table.routes) {
    const params = new URLSearchParams()
    const headers: Record<string, string> = {}
    for (const [name, values] of Object.entries(route.query ?? {})) {
      const value = values[0]
      if (value === null || value === undefined) continue
      if (name === '$size') headers['X-Plex-Container-Size'] = value
      else params.set(name, value)
    }
    if (route.variant !== undefined) params.set('X-Recorded-Variant', route.variant)
    const query = params.toString()
    for (const format of ['json', 'xml'] as const) {
      out.push({
        name: `${format} ${route.path}${query ? `?${query}` : ''}${headers['X-Plex-Container-Size'] ? ' (Size 0)' : ''}${format === route.format ? ' (recorded)' : ''}`,
        target: route.path + (query ? `?${query}` : ''),
        headers: { ...headers, ...(format === 'json' ? { Accept: 'application/json' } : {}) },
      })
    }
  }
  // PMS's paging, as a header and as the query.
  out.push({
    name: 'json /library/sections/1/all page 2 of 10 (headers)',
    target: '/library/sections/1/all?type=1',
    headers: { Accept: 'application/json', 'X-Plex-Container-Start': '10', 'X-Plex-Container-Size': '10' },
  })
  out.push({
    name: 'json /library/sections/1/all page 3 of 5 (query)',
    target: '/library/sections/1/all?type=1&X-Plex-Container-Start=10&X-Plex-Container-Size=5',
    headers: { Accept: 'application/json' },
  })
  return out
}

let pms: RecordedPms
let mirror: MirrorApp
beforeAll(async () => {
  pms = await startRecordedPms()
  mirror = await startMirror(pms.url)
}, 30_000)
afterAll(async () => {
  await mirror?.close()
  await pms?.close()
})

const PROBES = probes()

describe('every recording through the mirror', () => {
  it.each(PROBES.map((probe) => [probe.name, probe] as const))(
    '%s: the same status, Content-Type and bytes as PMS, then from the cache',
    async (_name, probe) => {
      const headers = { ...probe.headers, 'X-Plex-Token': RECORDED_TOKEN }
      const direct = await answerOf(await fetch(pms.url + probe.target, { headers }))
      expect(direct.status).toBe(200)
      const first = await fetch(mirror.url + probe.target, { headers })
      const second = await fetch(mirror.url + probe.target, { headers })
      expect(second.headers.get('x-cache')).toBe('HIT')
      for (const answer of [await answerOf(first), await answerOf(second)]) {
        expect(answer.status).toBe(direct.status)
        expect(answer.type).toBe(direct.type)
        expect(answer.body.equals(direct.body)).toBe(true)
      }
    },
  )

  it('asked PMS once per distinct request, whatever the number of reads', async () => {
    await pms.control('reset')
    const probe = PROBES.find((p) => p.target.startsWith('/status/sessions') && !p.headers.Accept)!
    const headers = { ...probe.headers, 'X-Plex-Token': RECORDED_TOKEN }
    await Promise.all(
      Array.from({ length: 20 }, () => fetch(mirror.url + probe.target, { headers }).then((r) => r.arrayBuffer())),
    )
    expect((await pms.counts())['/status/sessions'] ?? 0).toBeLessThanOrEqual(1)
  })
})

// Plex down (outage: connections refused) and Plex frozen (hang: accepted, never answered) under
// steady reads: a route whose value is held answers every read with it (X-Cache STALE, never a
// failure, never a long wait); a route with nothing held answers a clear 503 with a detail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import { type TestApp, startService } from '../support/api-harness.js'
import { sleep } from '../support/eventually.js'

const TOKEN = 'drill-outage-token-8086'
const HELD = ['/api/plex/sessions', '/api/plex/activities']

interface Reads {
  statuses: Map<number, number>
  xCache: Set<string>
  slowestMs: number
}

/** Reads `paths` in a loop, 5 ms apart, for `ms`. */
async function readFor(url: string, paths: readonly string[], ms: number): Promise<Reads> {
  const reads: Reads = { statuses: new Map(), xCache: new Set(), slowestMs: 0 }
  const end = performance.now() + ms
  await Promise.all(
    paths.map(async (path) => {
      while (performance.now() < end) {
        const started = performance.now()
        const res = await fetch(url + path)
        await res.arrayBuffer()
        reads.slowestMs = Math.max(reads.slowestMs, performance.now() - started)
        reads.statuses.set(res.status, (reads.statuses.get(res.status) ?? 0) + 1)
        reads.xCache.add(res.headers.get('x-cache') ?? '')
        await sleep(5)
      }
    }),
  )
  return reads
}

describe('Plex outage drills', () => {
  let sim: RunningSimulator
  let app: TestApp

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, token: TOKEN, seed: 3, items: 200, speed: 0, liveSessions: false })
    sim.control.startSession({ kind: 'movie' })
    // Short TTLs: held values expire during the drill, so every read past them needs Plex.
    app = await startService({
      env: {
        PLEX_SERVER_URL: sim.url,
        PLEX_SERVER_TOKEN: TOKEN,
        PLEX_TV_URL: sim.url,
        CACHE_SESSIONS_TTL: '1',
        CACHE_ACTIVITIES_TTL: '1',
      },
    })
    for (const path of HELD) expect((await fetch(app.url + path)).status).toBe(200)
  })

  afterAll(async () => {
    await sim.control.clearFaults()
    await app?.close()
    await sim?.close()
  })

  it('outage: zero failed reads of held values, a clear 503 for a value never loaded', async () => {
    await sim.control.setFault({ mode: 'outage' })
    try {
      const [reads, cold] = await Promise.all([readFor(app.url, HELD, 3_000), fetch(`${app.url}/api/plex/users/count`)])
      expect([...reads.statuses.keys()]).toEqual([200])
      expect(reads.xCache).toContain('STALE')
      expect(reads.slowestMs).toBeLessThan(2_000)
      expect(cold.status).toBe(503)
      expect(((await cold.json()) as { detail: string }).detail).toMatch(/unreachable \(ECONNREFUSED\).*no cached copy/)
    } finally {
      await sim.control.clearFaults()
    }
    expect((await fetch(`${app.url}/api/plex/sessions`)).status).toBe(200)
  })

  it('frozen: zero failed reads of held values and none waits on Plex; a value never loaded gets a clear 503', async () => {
    await sim.control.setFault({ mode: 'hang' })
    try {
      const cold = fetch(`${app.url}/api/plex/media/recent`)
      const reads = await readFor(app.url, HELD, 3_000)
      expect([...reads.statuses.keys()]).toEqual([200])
      expect(reads.xCache).toContain('STALE')
      expect(reads.slowestMs).toBeLessThan(2_000)
      const answer = await cold
      expect(answer.status).toBe(503)
      expect(((await answer.json()) as { detail: string }).detail).toMatch(/did not answer within/)
    } finally {
      await sim.control.clearFaults()
    }
  }, 40_000)
})

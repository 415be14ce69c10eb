// kill -9 in the middle of a watch-history sync, several times, then a clean run: every history
// row of the simulator ends up stored exactly once (no row lost, none doubled). The service runs
// as a child process on a database file; the expected count comes from the simulator itself.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import { eventually } from '../support/eventually.js'
import { startService } from '../support/api-harness.js'
import type { ServiceProcess } from '../support/service-process.js'

const TOKEN = 'drill-sync-token-5150'
const HISTORY = '/status/sessions/history/all'
const KILLS = 3

/** Rows the service stores, counted through its own API (page by page), whatever the storage. */
async function storedRows(url: string): Promise<number> {
  let count = 0
  for (let offset = 0; ; offset += 5_000) {
    const res = await fetch(`${url}/api/plex/watch-history?limit=5000&offset=${offset}`)
    if (res.status !== 200) throw new Error(`watch-history answered ${res.status}: ${await res.text()}`)
    const rows = (await res.json()) as unknown[]
    count += rows.length
    if (rows.length < 5_000) return count
  }
}

describe('kill -9 during a watch-history sync', () => {
  let sim: RunningSimulator
  let dir: string
  let service: ServiceProcess | undefined

  beforeAll(async () => {
    // ~30,000 rows over 500 items: a sync is 30 history pages and ~300 metadata batches.
    sim = await startSimulator({
      port: 0,
      token: TOKEN,
      seed: 7,
      items: 500,
      historyRows: 30_000,
      speed: 0,
      liveSessions: false,
      latencyMs: 5,
    })
    dir = mkdtempSync(join(tmpdir(), 'komandorr-kill-sync-'))
  })

  afterAll(async () => {
    await service?.stop()
    await sim?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it(`stores every simulator row exactly once after ${KILLS} kills mid-sync`, async () => {
    const env = {
      DATABASE_PATH: join(dir, 'komandorr.db'),
      PLEX_SERVER_URL: sim.url,
      PLEX_SERVER_TOKEN: TOKEN,
      PLEX_TV_URL: sim.url,
      WATCH_HISTORY_SYNC_INTERVAL: '3600',
      STATS_REFRESH_INTERVAL: '3600',
    }
    const expected = sim.control.state().historyRows
    expect(expected).toBe(30_000)
    const pages = () => sim.control.requestCounts()[HISTORY] ?? 0

    for (let kill = 0; kill < KILLS; kill++) {
      const before = pages()
      service = await startService({ process: 'child', env })
      // Some pages in (each stored in its own transaction), the sync not done: kill it there.
      await eventually('the sync is a few pages in', () => pages() >= before + 2 + kill, 20_000)
      await service.kill()
      expect(service.output.join('\n'), `run ${kill + 1} was killed before its sync finished`).not.toContain(
        'watch history synced',
      )
    }

    service = await startService({ process: 'child', env })
    await eventually(
      'the sync finishes',
      () => service!.output.some((line) => line.includes('watch history synced')),
      40_000,
    )
    expect(await storedRows(service.url)).toBe(expected)
    // Four service start-ups through tsx dominate: 90 s measured alone at load 20, 144 s in the
    // full suite at load 25; the margin is for that.
  }, 240_000)
})

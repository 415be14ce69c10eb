import { describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import { get, type Json } from './helpers.js'

const PATHS = [
  '/',
  '/identity',
  '/accounts',
  '/library/sections',
  '/library/sections/1/all?type=1',
  '/library/sections/2/all?type=4',
  '/library/recentlyAdded',
  '/status/sessions',
  '/activities',
  '/status/sessions/history/all?sort=viewedAt:desc',
]

async function snapshot(sim: RunningSimulator): Promise<string[]> {
  const out: string[] = []
  for (const path of PATHS) {
    for (const json of [false, true]) out.push(await (await get(sim, path, { json, start: 0, size: 200 })).text())
  }
  out.push(
    await (
      await fetch(`${sim.url}/api/servers/${sim.machineIdentifier}/shared_servers?X-Plex-Token=${sim.token}`)
    ).text(),
  )
  return out
}

describe('generation', () => {
  it('gives the same bytes for the same seed, and different ones for another seed', async () => {
    const a = await startSimulator({ port: 0, speed: 0, seed: 42, items: 1500 })
    const b = await startSimulator({ port: 0, speed: 0, seed: 42, items: 1500 })
    const c = await startSimulator({ port: 0, speed: 0, seed: 43, items: 1500 })
    try {
      const [sa, sb, sc] = await Promise.all([snapshot(a), snapshot(b), snapshot(c)])
      expect(a.machineIdentifier).toBe(b.machineIdentifier)
      expect(sa).toEqual(sb)
      expect(sc).not.toEqual(sa)
      expect(c.machineIdentifier).not.toBe(a.machineIdentifier)
    } finally {
      await Promise.all([a.close(), b.close(), c.close()])
    }
  })

  it('generates exactly the requested number of live items', async () => {
    for (const items of [0, 7, 333]) {
      const sim = await startSimulator({ port: 0, speed: 0, liveSessions: false, items })
      expect(sim.control.state().library.items).toBe(items)
      await sim.close()
    }
  })

  it('generates the largest library, 100,000 items and 1,000,000 history rows', async () => {
    const sim = await startSimulator({ port: 0, speed: 0, items: 100_000, historyRows: 1_000_000 })
    try {
      const state = sim.control.state()
      expect(state.library.items).toBe(100_000)
      expect(state.historyRows).toBe(1_000_000)
      const res = await get(sim, '/status/sessions/history/all?sort=viewedAt:desc', {
        json: true,
        start: 999_000,
        size: 1000,
      })
      const body: Json = await res.json()
      expect(body.MediaContainer).toMatchObject({ size: 1000, totalSize: 1_000_000, offset: 999_000 })
      expect(body.MediaContainer.Metadata[999].historyKey).toBe('/status/sessions/history/1')
    } finally {
      await sim.close()
    }
  })
})

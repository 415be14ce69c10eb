import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import { causeCode, get, getJson } from './helpers.js'
import { sleep } from '../support/eventually.js'

let sim: RunningSimulator

beforeAll(async () => {
  sim = await startSimulator({ port: 0, speed: 0, liveSessions: false, items: 300 })
})

afterEach(async () => {
  await sim.control.clearFaults()
  sim.control.resetCounts()
})

afterAll(async () => {
  await sim.close()
})

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now()
  await fn()
  return performance.now() - t
}

describe('faults', () => {
  it('adds fixed latency only to the faulted endpoint', async () => {
    await sim.control.setFault({ endpoint: '/status/sessions', latencyMs: 300 })
    expect(await timed(() => get(sim, '/status/sessions').then((r) => r.text()))).toBeGreaterThanOrEqual(290)
    expect(sim.control.faults()).toEqual([{ endpoint: '/status/sessions', latencyMs: 300 }])
    const other = await get(sim, '/identity')
    expect(other.status).toBe(200)
  })

  it('scales latencyPerItemMs by the items in the answer', async () => {
    await sim.control.setFault({ endpoint: '/status/sessions/history/all', latencyPerItemMs: 20 })
    const page = await timed(() =>
      get(sim, '/status/sessions/history/all', { start: 0, size: 20 }).then((r) => r.text()),
    )
    expect(page).toBeGreaterThanOrEqual(390)
    const countOnly = await timed(() =>
      get(sim, '/status/sessions/history/all', { start: 0, size: 0 }).then((r) => r.text()),
    )
    expect(countOnly).toBeLessThan(page)
  })

  it('answers 500 for every request at errorRate 1', async () => {
    await sim.control.setFault({ errorRate: 1 })
    for (const path of ['/status/sessions', '/library/sections', '/identity']) {
      const res = await get(sim, path, { json: true })
      expect(res.status).toBe(500)
      expect(res.headers.get('content-type')).toContain('text/html')
    }
  })

  it('answers the configured status: 401 with the PMS page, 503 while "starting"', async () => {
    await sim.control.setFault({ endpoint: '/status/sessions', status: 401 })
    await sim.control.setFault({ endpoint: '/activities', status: 503 })
    const unauthorized = await get(sim, '/status/sessions')
    expect(unauthorized.status).toBe(401)
    expect(await unauthorized.text()).toContain('401 Unauthorized')
    expect((await get(sim, '/activities')).status).toBe(503)
    expect((await get(sim, '/accounts')).status).toBe(200)
  })

  it('merges a second fault for the same endpoint and stacks it with the wildcard', async () => {
    await sim.control.setFault({ endpoint: '/accounts', latencyMs: 150 })
    await sim.control.setFault({ endpoint: '/accounts', status: 503 })
    await sim.control.setFault({ latencyMs: 150 })
    expect(sim.control.faults()).toContainEqual({ endpoint: '/accounts', latencyMs: 150, status: 503 })
    let status = 0
    const ms = await timed(async () => {
      status = (await get(sim, '/accounts')).status
    })
    expect(status).toBe(503)
    expect(ms).toBeGreaterThanOrEqual(290)
  })

  it('hangs: accepts the request and never answers', async () => {
    await sim.control.setFault({ endpoint: '/status/sessions', mode: 'hang' })
    await expect(get(sim, '/status/sessions', { signal: AbortSignal.timeout(300) })).rejects.toThrow(/aborted|timeout/i)
    expect(sim.control.requestCounts()['/status/sessions']).toBe(1)
  })

  it('drops: destroys the socket without an answer', async () => {
    await sim.control.setFault({ endpoint: '/library/sections', mode: 'drop' })
    const err = await get(sim, '/library/sections').then(
      () => null,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(Error)
    expect(['ECONNRESET', 'UND_ERR_SOCKET']).toContain(causeCode(err))
  })

  it('outage: refuses connections until cleared, then serves again on the same port', async () => {
    await sim.control.setFault({ mode: 'outage' })
    const err = await get(sim, '/identity').then(
      () => null,
      (e: unknown) => e,
    )
    expect(causeCode(err)).toBe('ECONNREFUSED')
    await sim.control.clearFaults()
    expect((await get(sim, '/identity')).status).toBe(200)
  })

  it('clears a fault by itself after durationMs', async () => {
    await sim.control.setFault({ endpoint: '/accounts', status: 503, durationMs: 100 })
    expect((await get(sim, '/accounts')).status).toBe(503)
    await sleep(250)
    expect((await get(sim, '/accounts')).status).toBe(200)
  })

  it('rejects a malformed fault with a message naming the field', async () => {
    await expect(sim.control.setFault({ errorRate: 2 })).rejects.toThrow(/errorRate/)
    await expect(sim.control.setFault({ status: 404 as never })).rejects.toThrow(/status/)
    await expect(sim.control.setFault({ endpoint: '/status/session', latencyMs: 5 })).rejects.toThrow(
      /"\/status\/session" is not one of/,
    )
  })

  it('applies faults to the notification endpoints too', async () => {
    await sim.control.setFault({ endpoint: '/:/eventsource/notifications', status: 503 })
    expect((await get(sim, '/:/eventsource/notifications')).status).toBe(503)
  })
})

describe('request counters', () => {
  it('counts requests per endpoint pattern, including refused ones, and resets', async () => {
    await get(sim, '/status/sessions')
    await get(sim, '/status/sessions', { token: null })
    await get(sim, '/library/sections/1/all?type=1', { start: 0, size: 0 })
    await get(sim, '/library/sections/2/all?type=4', { start: 0, size: 0 })
    await get(sim, '/library/metadata/20001,20002')
    await get(sim, '/nope')
    expect(sim.control.requestCounts()).toEqual({
      '/status/sessions': 2,
      '/library/sections/:id/all': 2,
      '/library/metadata/:ids': 1,
      '(unmatched)': 1,
    })
    expect(sim.control.totalRequests()).toBe(6)
    sim.control.resetCounts()
    expect(sim.control.totalRequests()).toBe(0)
    expect(sim.control.requestCounts()).toEqual({})
  })
})

describe('HTTP control API', () => {
  async function control(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${sim.url}/__simulator/${path}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } } : {}),
    })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  it('sets and clears faults, advances the clock and starts sessions without being counted', async () => {
    expect((await control('POST', 'faults', { endpoint: '/status/sessions', status: 503 })).status).toBe(200)
    expect((await get(sim, '/status/sessions')).status).toBe(503)
    await control('DELETE', 'faults')
    expect((await get(sim, '/status/sessions')).status).toBe(200)

    const started = await control('POST', 'sessions', { kind: 'episode' })
    expect(started.body.sessionKey).toMatch(/^\d+$/)
    const before = sim.control.now()
    expect((await control('POST', 'advance', { seconds: 30 })).body.now).toBe(before + 30)
    const sessions = await getJson(sim, '/status/sessions')
    expect(sessions.MediaContainer.Metadata[0].viewOffset).toBe(30_000)
    expect((await control('DELETE', `sessions/${String(started.body.sessionKey)}`)).status).toBe(200)

    const counts = await control('GET', 'requests')
    expect(counts.body).toEqual({ total: 3, counts: { '/status/sessions': 3 } })
    await control('POST', 'requests/reset')
    expect((await control('GET', 'requests')).body.total).toBe(0)
  })

  it('takes an outage with a duration over HTTP: answers, goes down, comes back by itself', async () => {
    const set = await control('POST', 'faults', { mode: 'outage', durationMs: 300 })
    expect(set.status).toBe(200)
    await sleep(50)
    const err = await get(sim, '/identity').then(
      () => null,
      (e: unknown) => e,
    )
    expect(causeCode(err)).toBe('ECONNREFUSED')
    await sleep(600)
    expect((await get(sim, '/identity')).status).toBe(200)
  })

  it('answers bad control input with 400 and a message', async () => {
    const bad = await control('POST', 'faults', { mode: 'explode' })
    expect(bad.status).toBe(400)
    expect(String(bad.body.error)).toMatch(/mode/)
    expect((await control('POST', 'advance', { seconds: -1 })).status).toBe(400)
    expect((await control('GET', 'nothing-here')).status).toBe(404)
  })

  it('reports state: sessions, activities, library counts and faults', async () => {
    await control('POST', 'activities', { type: 'library.refresh.items' })
    await control('POST', 'media', { type: 'movie', title: 'Control Added' })
    const state = (await control('GET', 'state')).body as {
      activities: unknown[]
      library: { items: number }
      speed: number
    }
    expect(state.activities).toHaveLength(1)
    expect(state.library.items).toBe(301)
    expect(state.speed).toBe(0)
  })
})

import type { ServerResponse } from 'node:http'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { MAX_SERVICES } from '../../src/http/routes/services.js'
import {
  closedPortUrl,
  json,
  jsonInit,
  sqliteOf,
  startTarget,
  type Target,
  type TestApp,
  startService,
} from '../support/api-harness.js'
import { sleep } from '../support/eventually.js'

/** Many services in one SQLite transaction, as an old or busy database would hold them. */
function insertManyRaw(t: TestApp, rows: Array<[id: string, url: string]>): void {
  const db = sqliteOf(t)
  const insert = db.prepare("INSERT INTO services (id, name, url, type, created_at) VALUES (?, ?, ?, 'app', 0)")
  db.transaction(() => {
    for (const [id, url] of rows) insert.run(id, id, url)
  })()
}

describe('services: what a careless or hostile client cannot break', () => {
  let t: TestApp
  const post = (body: Record<string, unknown>) =>
    fetch(`${t.url}/api/services/`, jsonInit('POST', { name: 'n', type: 'app', ...body }))
  const stored = () => t.runtime.repos.services.count()
  const insertRaw = (id: string, url: string, icon: string | null = null) =>
    t.runtime.repos.services.insert(id, { name: id, url, type: 'app', description: null, icon, group: null }, 0)

  beforeAll(async () => {
    t = await startService({ env: { MONITOR_TIMEOUT: '1' } })
  })
  afterAll(async () => {
    await t.close()
  })
  afterEach(() => {
    sqliteOf(t).prepare('DELETE FROM services').run()
  })

  it.each([
    ['credentials that do not percent-decode', 'http://%FF@127.0.0.1:9/'],
    ['a password that does not percent-decode', 'http://user:%E0%A4%A@127.0.0.1:9/'],
    ['a mailto: URL', 'mailto:admin@example.com'],
    ['a file: URL', 'file:///etc/passwd'],
    ['no host', 'http://'],
  ])('refuses a URL with %s (400 naming url) and stores nothing', async (_label, url) => {
    const response = await post({ url })
    expect(response.status).toBe(400)
    expect((await json(response)).detail).toContain('"url"')
    expect(await stored()).toBe(0)
  })

  it('refuses a URL that points at this service itself, on any loopback spelling, and takes its other ports', async () => {
    const port = new URL(t.url).port
    for (const url of [
      `http://127.0.0.1:${port}/api/services/`,
      `http://localhost:${port}`,
      `http://[::1]:${port}/`,
      `http://127.8.9.10:${port}`,
      `http://0.0.0.0:${port}`,
    ]) {
      const response = await post({ url })
      expect(response.status, url).toBe(400)
      expect((await json(response)).detail).toContain('this service itself')
    }
    expect(await stored()).toBe(0)
    expect((await post({ url: `http://127.0.0.1:${Number(port) === 65535 ? 1 : Number(port) + 1}/` })).status).toBe(201)
  })

  it('refuses the same on update, keeping the service as it was', async () => {
    const { id } = await json(await post({ url: await closedPortUrl() }))
    const before = await t.runtime.repos.services.get(id)
    const response = await fetch(
      `${t.url}/api/services/${id}`,
      jsonInit('PUT', { url: `http://localhost:${new URL(t.url).port}/` }),
    )
    expect(response.status).toBe(400)
    expect((await t.runtime.repos.services.get(id))?.url).toBe(before?.url)
  })

  it('bounds the icon: a small data URI or a path passes, 64 KiB + 1 or text with spaces does not', async () => {
    const url = await closedPortUrl()
    expect((await post({ url, icon: 'data:image/png;base64,iVBORw0KGgo=' })).status).toBe(201)
    expect((await post({ url, icon: '/icons/sonarr.png' })).status).toBe(201)
    for (const icon of ['x'.repeat(65_537), 'not an icon at all']) {
      const response = await post({ url, icon })
      expect(response.status).toBe(400)
      expect((await json(response)).detail).toContain('icon')
    }
    expect(await stored()).toBe(2)
  })

  it('checks a stored URL that cannot be requested as a problem: no 500, no stack in the log', async () => {
    insertRaw('bad', 'http://%FF@127.0.0.1:9/')
    const check = await fetch(`${t.url}/api/services/bad/check`, { method: 'POST' })
    expect(check.status).toBe(200)
    expect((await json(check)).status).toBe('problem')
    const linesBefore = t.logLines.length
    const round = await t.runtime.monitor.runRound()
    expect(round).toMatchObject({ total: 1, problem: 1, unreached: 0 })
    expect(t.logLines.slice(linesBefore).filter((line) => /"level":(40|50)/.test(line))).toEqual([])
    expect((await fetch(`${t.url}/api/services/`)).status).toBe(200)
  })

  it('lists a row stored before icons were bounded with its icon left out, not a failure', async () => {
    await insertRaw('old', 'http://127.0.0.1:9/', 'i'.repeat(300_000))
    const response = await fetch(`${t.url}/api/services/`)
    expect(response.status).toBe(200)
    expect((await json(response))[0]).toMatchObject({ id: 'old', icon: null })
  })

  it(`keeps ${MAX_SERVICES} services at most: the next POST is a 409 that says so`, async () => {
    insertManyRaw(
      t,
      Array.from({ length: MAX_SERVICES }, (_, i) => [`s${String(i).padStart(4, '0')}`, 'http://127.0.0.1:9/']),
    )
    const response = await post({ url: 'http://127.0.0.1:9/' })
    expect(response.status).toBe(409)
    expect((await json(response)).detail).toContain(`${MAX_SERVICES} services`)
    expect(await stored()).toBe(MAX_SERVICES)
  })

  it('pages the list with limit and offset, the default answer staying the bare array of all', async () => {
    for (let i = 0; i < 5; i++) await insertRaw(`p${i}`, 'http://127.0.0.1:9/')
    const all = await fetch(`${t.url}/api/services/`)
    expect(all.headers.get('x-total-count')).toBe('5')
    expect((await json(all)).map((s: { id: string }) => s.id)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4'])
    const page = await json(await fetch(`${t.url}/api/services/?limit=2&offset=3`))
    expect(page.map((s: { id: string }) => s.id)).toEqual(['p3', 'p4'])
  })
})

describe('services monitor with 300 services at hosts that never answer', () => {
  let t: TestApp
  let blackHole: Target
  const held: ServerResponse[] = []

  beforeAll(async () => {
    blackHole = await startTarget((_req, res) => void held.push(res))
    t = await startService({ env: { MONITOR_TIMEOUT: '1', MONITOR_CONCURRENCY: '16', MONITOR_ROUND_DEADLINE: '2' } })
  })
  afterAll(async () => {
    await t.close()
    for (const res of held.splice(0)) res.destroy()
    await blackHole.close()
  })

  it('ends each round at its deadline, checks the services left out first next round, and /api/health stays quick', async () => {
    const closed = await closedPortUrl()
    insertManyRaw(
      t,
      Array.from({ length: 300 }, (_, i) => [
        `s${String(i).padStart(3, '0')}`,
        i % 3 === 0 ? closed : `${blackHole.url}/s${i}`,
      ]),
    )

    let slowestHealthMs = 0
    let healthChecks = 0
    let polling = true
    const poll = (async () => {
      while (polling) {
        const started = performance.now()
        expect((await fetch(`${t.url}/api/health`)).status).toBe(200)
        slowestHealthMs = Math.max(slowestHealthMs, performance.now() - started)
        healthChecks++
        await sleep(25)
      }
    })()

    const loop = monitorEventLoopDelay({ resolution: 10 })
    loop.enable()
    const started = performance.now()
    const first = await t.runtime.monitor.runRound()
    const firstMs = performance.now() - started
    const checkedFirst = new Set(
      (await t.runtime.repos.services.list()).filter((s) => s.lastCheckAt !== null).map((s) => s.id),
    )
    const second = await t.runtime.monitor.runRound()
    polling = false
    await poll
    loop.disable()

    // 16 at a time, 1 s per black hole: 300 would take ~13 s without the 2 s deadline.
    expect(firstMs).toBeLessThan(3_500)
    expect(first.unreached).toBeGreaterThan(0)
    expect(first.total).toBe(300)
    // The second round started with the services the first never finished.
    const nowChecked = (await t.runtime.repos.services.list()).filter((s) => s.lastCheckAt !== null)
    expect(nowChecked.some((s) => !checkedFirst.has(s.id))).toBe(true)
    expect(second.unreached).toBeGreaterThan(0)
    expect(healthChecks).toBeGreaterThan(20)
    expect(slowestHealthMs).toBeLessThan(1_000)
    console.log(
      `monitor: 300 services, round 1 ${Math.round(firstMs)} ms (${first.unreached} unreached), /api/health slowest ${Math.round(slowestHealthMs)} ms over ${healthChecks} calls, event loop delay max ${Math.round(loop.max / 1e6)} ms`,
    )
  })
})

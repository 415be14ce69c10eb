import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  answering,
  closedPortUrl,
  json,
  jsonInit,
  slow,
  sqliteOf,
  type Target,
  type TestApp,
  startService,
} from '../support/api-harness.js'
import { eventually } from '../support/eventually.js'

describe('services API', () => {
  let t: TestApp
  let ok: Target
  let failing: Target
  let sluggish: Target
  const created: string[] = []

  beforeAll(async () => {
    t = await startService({ env: { MONITOR_TIMEOUT: '1' } })
    ok = await answering(200)
    failing = await answering(500)
    sluggish = await slow(3_000)
  })
  afterAll(async () => {
    await t.close()
    await Promise.all([ok.close(), failing.close(), sluggish.close()])
  })
  afterEach(async () => {
    for (const id of created.splice(0)) await fetch(`${t.url}/api/services/${id}`, { method: 'DELETE' })
  })

  async function create(body: Record<string, unknown>) {
    const response = await fetch(`${t.url}/api/services/`, jsonInit('POST', { type: 'app', ...body }))
    const service = await json(response)
    if (response.status === 201) created.push(service.id)
    return { response, service }
  }

  /** The service once its background check (started by POST or a URL change) is stored. */
  async function checked(id: string, after: string | null = null, timeoutMs = 5_000) {
    let service: Awaited<ReturnType<typeof json>>
    await eventually(
      `service ${id} is checked`,
      async () => {
        service = await json(await fetch(`${t.url}/api/services/${id}`))
        return service.last_check !== null && service.last_check !== after
      },
      timeoutMs,
      20,
    )
    return service
  }

  it('creates a service, checks it in the background at once and lists it in Komandorr shape', async () => {
    const { response, service: created } = await create({
      name: 'Sonarr',
      url: ok.url,
      description: 'TV',
      icon: '',
      group: 'arr',
    })
    expect(response.status).toBe(201)
    expect(created).toMatchObject({
      name: 'Sonarr',
      url: ok.url,
      type: 'app',
      last_check: null,
      description: 'TV',
      icon: null,
      group: 'arr',
      traffic: null,
    })
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/)
    const service = await checked(created.id)
    expect(service.status).toBe('online')
    expect(service.last_check).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/)
    expect(service.response_time).toBeTypeOf('number')

    const list = await json(await fetch(`${t.url}/api/services/`))
    expect(list.map((s: { id: string }) => s.id)).toContain(service.id)
    const one = await json(await fetch(`${t.url}/api/services/${service.id}`))
    expect(one).toEqual(service)
  })

  it('answers the list with and without the trailing slash', async () => {
    await create({ name: 'A', url: ok.url })
    const [withSlash, without] = await Promise.all([fetch(`${t.url}/api/services/`), fetch(`${t.url}/api/services`)])
    expect(withSlash.status).toBe(200)
    expect(await json(without)).toEqual(await json(withSlash))
  })

  it('marks a 500 answer as problem, a refused connection as offline and a timeout as problem', async () => {
    const problem = await checked((await create({ name: 'Broken', url: `${failing.url}/x` })).service.id)
    expect(problem.status).toBe('problem')
    expect(problem.response_time).toBeTypeOf('number')

    const offline = await checked((await create({ name: 'Gone', url: await closedPortUrl() })).service.id)
    expect(offline.status).toBe('offline')
    expect(offline.response_time).toBeNull()

    const started = Date.now()
    const timedOut = await create({ name: 'Sluggish', url: sluggish.url })
    // POST does not wait for a host that does not answer (MONITOR_TIMEOUT is 1 s here).
    expect(Date.now() - started).toBeLessThan(800)
    const late = await checked(timedOut.service.id)
    expect(late.status).toBe('problem')
    expect(late.response_time).toBeNull()
    expect(Date.now() - started).toBeLessThan(2_900)
  })

  it('updates only the fields sent, and re-checks when the URL changes', async () => {
    const service = await checked((await create({ name: 'Radarr', url: ok.url, group: 'arr' })).service.id)
    const renamed = await json(
      await fetch(`${t.url}/api/services/${service.id}`, jsonInit('PUT', { name: 'Radarr 4K' })),
    )
    expect(renamed).toMatchObject({
      name: 'Radarr 4K',
      url: ok.url,
      group: 'arr',
      status: 'online',
      last_check: service.last_check,
    })

    const moved = await json(
      await fetch(`${t.url}/api/services/${service.id}`, jsonInit('PUT', { url: failing.url, group: null })),
    )
    expect(moved).toMatchObject({ name: 'Radarr 4K', url: failing.url, group: null })
    expect(await checked(service.id, service.last_check)).toMatchObject({ url: failing.url, status: 'problem' })
  })

  it('POST /check re-checks the service and stores the new status', async () => {
    const service = await checked((await create({ name: 'Flaky', url: ok.url })).service.id)
    expect(service.status).toBe('online')
    sqliteOf(t).prepare('UPDATE services SET url = ? WHERE id = ?').run(`${failing.url}/flaky`, service.id)

    // Komandorr's frontend sends Content-Type: application/json with no body here.
    const response = await fetch(`${t.url}/api/services/${service.id}/check`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    })
    expect(response.status).toBe(200)
    expect((await json(response)).status).toBe('problem')
    expect((await t.runtime.repos.services.get(service.id))?.status).toBe('problem')
  })

  it('deletes a service, then answers 404 for it', async () => {
    const { service } = await create({ name: 'Temp', url: ok.url })
    const deleted = await fetch(`${t.url}/api/services/${service.id}`, {
      method: 'DELETE',
      headers: { 'content-type': 'application/json' },
    })
    expect(deleted.status).toBe(204)
    for (const [method, path] of [
      ['GET', ''],
      ['DELETE', ''],
      ['POST', '/check'],
    ] as const) {
      const response = await fetch(`${t.url}/api/services/${service.id}${path}`, { method })
      expect(response.status, `${method} ${path}`).toBe(404)
      expect((await json(response)).detail).toContain(service.id)
    }
    const put = await fetch(`${t.url}/api/services/${service.id}`, jsonInit('PUT', { name: 'x' }))
    expect(put.status).toBe(404)
  })

  it('check-all runs one monitor round and returns every service with its new status', async () => {
    const { service } = await create({ name: 'Later broken', url: ok.url })
    sqliteOf(t).prepare('UPDATE services SET url = ? WHERE id = ?').run(failing.url, service.id)
    const list = await json(await fetch(`${t.url}/api/services/check-all`, { method: 'POST' }))
    expect(list.find((s: { id: string }) => s.id === service.id).status).toBe('problem')
  })

  it('shows the newest traffic report of a service', async () => {
    const { service } = await create({ name: 'Seedbox', url: ok.url, type: 'server' })
    const report = {
      service_id: service.id,
      bandwidth_up: 1.5,
      bandwidth_down: 12.25,
      total_up: 3,
      total_down: 40,
      max_bandwidth: 125,
    }
    expect((await fetch(`${t.url}/api/traffic/update`, jsonInit('POST', report))).status).toBe(200)
    const one = await json(await fetch(`${t.url}/api/services/${service.id}`))
    expect(one.traffic).toMatchObject({
      bandwidth_up: 1.5,
      bandwidth_down: 12.25,
      total_up: 3,
      total_down: 40,
      max_bandwidth: 125,
      cpu_percent: null,
    })
    const list = await json(await fetch(`${t.url}/api/services/`))
    expect(list.find((s: { id: string }) => s.id === service.id).traffic.total_down).toBe(40)
  })
})

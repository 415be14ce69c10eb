import { Ajv2020 } from 'ajv/dist/2020.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { scopeIdOf } from '../../src/cache/index.js'
import { viewerOf } from '../../src/features/viewers/viewer.js'
import { basic, everyStoredText, json, jsonInit, type PlexApp, startService } from '../support/api-harness.js'
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js'
import { ADMIN, AUTH_ENV } from '../support/viewer-isolation.js'

const admin = basic(ADMIN.user, ADMIN.password)
const PASSWORD = 'a long viewer password'

describe('viewer accounts without ENABLE_AUTH', () => {
  it('refuses to make one with a 409 that says why', async () => {
    const t = await startService()
    try {
      const response = await fetch(
        `${t.url}/api/viewers`,
        jsonInit('POST', { username: 'ann', password: PASSWORD, plex_account_id: 7 }),
      )
      expect(response.status).toBe(409)
      expect((await json(response)).detail).toContain('ENABLE_AUTH=true')
      expect(await t.runtime.repos.viewers.list()).toEqual([])
    } finally {
      await t.close()
    }
  })
})

describe('viewers beside the admin', () => {
  let t: PlexApp
  let ann: { account: number; headers: Record<string, string> }
  let bob: { account: number; headers: Record<string, string> }
  const post = (body: unknown, headers = admin) => fetch(`${t.url}/api/viewers`, jsonInit('POST', body, headers))
  const get = (path: string, headers: Record<string, string>) => fetch(t.url + path, { headers })

  beforeAll(async () => {
    // These tests send dozens of wrong passwords from one address, faster than the defaults allow
    // (test/api/login-limits.test.ts is about those bounds).
    const env = { ...AUTH_ENV, LOGIN_FAILURES_PER_CLIENT: '1000', LOGIN_FAILURES_PER_SECOND: '1000' }
    t = await startService({ plex: true, env, sim: { sharedUsers: 4, historyRows: 600 } })
    const [a, b] = t.sim.control.state().accounts.filter((account) => account.id > 1)
    ann = { account: a!.id, headers: basic('ann', PASSWORD) }
    bob = { account: b!.id, headers: basic('bob', PASSWORD) }
    expect((await post({ username: 'ann', password: PASSWORD, plex_account_id: ann.account })).status).toBe(201)
    expect((await post({ username: 'bob', password: PASSWORD, plex_account_id: bob.account })).status).toBe(201)
    t.sim.control.startSession({ accountId: ann.account })
    t.sim.control.startSession({ accountId: bob.account })
    t.sim.control.startActivity()
    expect((await fetch(`${t.url}/api/plex/watch-history/sync`, { method: 'POST', headers: admin })).status).toBe(200)
  }, 30_000)
  afterAll(() => t?.close())

  it('are made, listed and deleted by the admin, never showing a password or its hash', async () => {
    const made = await post({ username: 'carol', password: PASSWORD, plex_account_id: 5 })
    expect(made.status).toBe(201)
    const body = await json(made)
    expect(Object.keys(body).sort()).toEqual(['created_at', 'plex_account_id', 'username'])
    const list = await json(await get('/api/viewers', admin))
    expect(list.viewers.map((v: { username: string }) => v.username)).toEqual(['ann', 'bob', 'carol'])
    expect(JSON.stringify(list)).not.toMatch(/password|scrypt/)
    expect((await fetch(`${t.url}/api/viewers/carol`, { method: 'DELETE', headers: admin })).status).toBe(204)
    expect((await fetch(`${t.url}/api/viewers/carol`, { method: 'DELETE', headers: admin })).status).toBe(404)
  })

  it('refuses bad input with a 4xx naming the field', async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ username: 'dave', plex_account_id: 5 }, 400, 'password'],
      [{ username: 'dave', password: 'short', plex_account_id: 5 }, 400, 'password'],
      [{ username: 'x'.repeat(65), password: PASSWORD, plex_account_id: 5 }, 400, 'username'],
      [{ username: 'no spaces', password: PASSWORD, plex_account_id: 5 }, 400, 'username'],
      [{ username: 'dave', password: PASSWORD, plex_account_id: '5' }, 400, 'plex_account_id'],
      [{ username: 'dave', password: PASSWORD, plex_account_id: 0 }, 400, 'plex_account_id'],
      [{ username: 'dave', password: 'p'.repeat(257), plex_account_id: 5 }, 400, 'password'],
      [{ username: 'dave', password: PASSWORD, plex_account_id: 5, admin: true }, 400, 'admin'],
      [{ username: 'ann', password: PASSWORD, plex_account_id: 5 }, 409, 'exists'],
      [{ username: ADMIN.user, password: PASSWORD, plex_account_id: 5 }, 409, 'admin'],
    ]
    for (const [body, status, named] of cases) {
      const response = await post(body)
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(status)
      expect((await json(response)).detail).toContain(named)
    }
    expect((await t.runtime.repos.viewers.list()).map((v) => v.username)).toEqual(['ann', 'bob'])
  })

  it('see only their own sessions, activities and history', async () => {
    const sessions = await json(await get('/api/plex/sessions', ann.headers))
    expect(sessions.sessions.length).toBe(1)
    expect(sessions.sessions[0].user.id).toBe(String(ann.account))
    const everyone = await json(await get('/api/plex/sessions', admin))
    expect(everyone.sessions.length).toBe(2)

    const activities = await json(await get('/api/plex/activities', ann.headers))
    expect(activities.activities.map((a: { uuid: string }) => a.uuid)).toEqual([sessions.sessions[0].session_id])
    expect((await json(await get('/api/plex/activities', admin))).activities.length).toBe(3)

    const history = await json(await get('/api/plex/watch-history?limit=5000', ann.headers))
    expect(history.length).toBeGreaterThan(0)
    expect(new Set(history.map((row: { user_id: number }) => row.user_id))).toEqual(new Set([ann.account]))
    expect((await get(`/api/plex/watch-history?user_id=${ann.account}`, ann.headers)).status).toBe(200)
    const someoneElse = await get(`/api/plex/watch-history?user_id=${bob.account}`, ann.headers)
    expect(someoneElse.status).toBe(403)
    expect((await json(someoneElse)).detail).toContain(`user_id ${bob.account} is not your Plex account`)
  })

  it('get the statistics without the server-wide user count; public routes stay public', async () => {
    const mine = await json(await get('/api/plex/stats', ann.headers))
    expect(mine).not.toHaveProperty('total_users')
    expect(mine.total_movies).toBeGreaterThan(0)
    expect((await json(await get('/api/plex/stats', admin))).total_users).toBeGreaterThan(0)
    expect((await fetch(`${t.url}/api/plex/stats`)).status).toBe(200)
    expect((await fetch(`${t.url}/api/plex/media/recent`)).status).toBe(200)
    expect((await get('/api/plex/media/recent', ann.headers)).status).toBe(200)
  })

  it('are refused every other route with a 403 that says what they may read', async () => {
    for (const [method, path] of [
      ['GET', '/api/services/'],
      ['GET', '/api/plex/cache/stats'],
      ['POST', '/api/plex/cache/clear'],
      ['GET', '/api/viewers'],
      ['POST', '/api/viewers'],
      ['GET', '/api/plex/users/count'],
      ['GET', '/api/plex/config'],
      ['POST', '/api/plex/watch-history/sync'],
      ['GET', '/metrics'],
      ['GET', '/cache'],
      ['GET', '/api/plex/cache/history'],
      ['GET', '/openapi.json'],
    ]) {
      const response = await fetch(t.url + path, { method, headers: ann.headers })
      expect(response.status, `${method} ${path}`).toBe(403)
      expect((await json(response)).detail).toContain('is for the admin only; a viewer may read /api/plex/sessions')
    }
    expect((await get('/api/health', ann.headers)).status).toBe(200)
  })

  it("answer a viewer within the routes' documented schemas (/openapi.json)", async () => {
    type Operation = { responses: Record<string, { content?: Record<string, { schema: object }> }> }
    const spec = (await json(await get('/openapi.json', admin))) as { paths: Record<string, Record<string, Operation>> }
    const ajv = new Ajv2020({ strict: false, allErrors: true, formats: { 'date-time': true, binary: true } })
    const check = async (method: string, route: string, response: Response) => {
      const schema =
        spec.paths[route]![method]!.responses[String(response.status)]!.content!['application/json']!.schema
      const validate = ajv.compile(schema)
      const body: unknown = await json(response)
      expect(validate(body) ? [] : validate.errors, `${method} ${route} (${response.status})`).toEqual([])
    }
    for (const path of [
      '/api/plex/sessions',
      '/api/plex/activities',
      '/api/downloads',
      '/api/plex/stats',
      '/api/plex/media/recent',
    ]) {
      await check('get', path, await get(path, ann.headers))
    }
    await check('get', '/api/plex/watch-history', await get('/api/plex/watch-history?limit=5', ann.headers))
    await check('get', '/api/viewers', await get('/api/viewers', admin))
    await check('post', '/api/viewers', await post({ username: 'frank', password: PASSWORD, plex_account_id: 9 }))
    await check('get', '/api/plex/cache/stats', await get('/api/plex/cache/stats', admin))
    await check(
      'post',
      '/api/plex/cache/clear',
      await fetch(`${t.url}/api/plex/cache/clear?viewer=frank`, { method: 'POST', headers: admin }),
    )
    expect((await fetch(`${t.url}/api/viewers/frank`, { method: 'DELETE', headers: admin })).status).toBe(204)
    const documented = Object.keys(spec.paths)
    expect(documented).toEqual(expect.arrayContaining(['/api/viewers', '/api/viewers/{username}']))
    expect(spec.paths['/api/plex/cache/clear']!.post).toMatchObject({
      parameters: [expect.objectContaining({ in: 'query', name: 'viewer' })],
    })
  })

  it('get posters from the one plex_images cache everybody shares', async () => {
    const url = `/api/plex/proxy/image?url=${encodeURIComponent('/library/metadata/1/thumb/1')}`
    const before = t.sim.control.totalRequests()
    const ofAdmin = await get(url, admin)
    expect(ofAdmin.status).toBe(200)
    const bytes = Buffer.from(await ofAdmin.arrayBuffer())
    for (const headers of [ann.headers, bob.headers]) {
      const ofViewer = await get(url, headers)
      expect(ofViewer.status).toBe(200)
      expect(ofViewer.headers.get('x-cache')).toBe('HIT')
      expect(ofViewer.headers.get('etag')).toBe(ofAdmin.headers.get('etag'))
      expect(Buffer.from(await ofViewer.arrayBuffer()).equals(bytes)).toBe(true)
      expect((await get(url, { ...headers, 'if-none-match': ofAdmin.headers.get('etag')! })).status).toBe(304)
    }
    expect(t.sim.control.totalRequests() - before).toBe(1)
  })

  it('show in /metrics as totals over the scopes, never naming a viewer', async () => {
    await get('/api/plex/sessions', ann.headers)
    await get('/api/plex/sessions', bob.headers)
    await get('/api/plex/watch-history', ann.headers)
    const text = await (await get('/metrics', admin)).text()
    const samples = parsePrometheusText(text)
    const stats = await json(await get('/api/plex/cache/stats', admin))
    expect(sampleValue(samples, 'cache_scopes')).toBe(stats.scopes.count)
    expect(stats.scopes.count).toBeGreaterThanOrEqual(2)
    expect(sampleValue(samples, 'cache_scope_max_bytes')).toBe(stats.scopes.max_bytes_per_scope)
    expect(sampleValue(samples, 'cache_scope_largest_bytes')).toBe(
      Math.max(...stats.scopes.per_scope.map((s: { bytes: number }) => s.bytes)),
    )
    expect(sampleValue(samples, 'cache_scoped_entries', { cache: 'plex_sessions' })).toBeGreaterThanOrEqual(2)
    expect(sampleValue(samples, 'cache_scoped_bytes', { cache: 'watch_history' })).toBeGreaterThan(0)
    const scoped = ['plex_sessions', 'plex_activities', 'watch_history', 'plex_stats', 'plex_recent_media']
    const held = scoped.reduce((n, cache) => n + sampleValue(samples, 'cache_scoped_bytes', { cache }), 0)
    expect(held).toBe(stats.scopes.bytes)
    expect(sampleValue(samples, 'cache_scope_views_derived_total')).toBeGreaterThanOrEqual(2)
    const labelValues = new Set(
      samples.flatMap((sample) =>
        Object.entries(sample.labels)
          .filter(([name]) => name !== 'le')
          .map(([, value]) => value),
      ),
    )
    for (const viewer of await t.runtime.repos.viewers.list()) {
      expect(
        [...labelValues].filter((value) => value.includes(viewer.username) || value === String(viewer.plexAccountId)),
      ).toEqual([])
      expect(text).not.toContain(scopeIdOf(viewerOf(viewer).id))
    }
  })

  it("never answers a 304 for another viewer's ETag", async () => {
    for (const path of ['/api/plex/sessions', '/api/plex/stats', '/api/plex/media/recent', '/api/plex/watch-history']) {
      const ofAnn = (await get(path, ann.headers)).headers.get('etag')!
      expect((await get(path, { ...ann.headers, 'if-none-match': ofAnn })).status, path).toBe(304)
      const forBob = await get(path, { ...bob.headers, 'if-none-match': ofAnn })
      expect(forBob.status, path).toBe(200)
      expect(forBob.headers.get('etag')).not.toBe(ofAnn)
      expect((await get(path, { ...admin, 'if-none-match': ofAnn })).status, path).toBe(200)
    }
  })

  it('clears one viewer’s cached entries on request, leaving the others', async () => {
    await get('/api/plex/watch-history', ann.headers)
    await get('/api/plex/watch-history', bob.headers)
    const cleared = await fetch(`${t.url}/api/plex/cache/clear?viewer=ann`, { method: 'POST', headers: admin })
    expect(cleared.status).toBe(200)
    expect((await json(cleared)).cleared).toContain('watch_history')
    expect((await get('/api/plex/watch-history', ann.headers)).headers.get('x-cache')).toBe('MISS')
    expect((await get('/api/plex/watch-history', bob.headers)).headers.get('x-cache')).toBe('HIT')
    expect(
      (await fetch(`${t.url}/api/plex/cache/clear?viewer=nobody`, { method: 'POST', headers: admin })).status,
    ).toBe(404)
    const stats = await json(await get('/api/plex/cache/stats', admin))
    expect(stats.scopes.count).toBeGreaterThanOrEqual(2)
    expect(stats.scopes.bytes).toBeGreaterThan(0)
    expect(JSON.stringify(stats.scopes)).not.toMatch(/ann|bob/)
  })

  it('takes as long to refuse a wrong password as an unknown name', async () => {
    const time = async (headers: Record<string, string>) => {
      const started = performance.now()
      expect((await get('/api/plex/sessions', headers)).status).toBe(401)
      return performance.now() - started
    }
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!
    const wrong: number[] = []
    const unknown: number[] = []
    const wrongAdmin: number[] = []
    for (let i = 0; i < 5; i++) {
      wrong.push(await time(basic('ann', `not the password ${i}`)))
      unknown.push(await time(basic(`nobody${i}`, PASSWORD)))
      wrongAdmin.push(await time(basic(ADMIN.user, `not the password ${i}`)))
    }
    // Each costs one scrypt check (tens of ms); a cheap refusal of unknown names would be ~100x faster.
    const ratio = median(wrong) / median(unknown)
    expect(ratio, `wrong ${median(wrong).toFixed(1)} ms, unknown ${median(unknown).toFixed(1)} ms`).toBeGreaterThan(0.4)
    expect(ratio).toBeLessThan(2.5)
    expect(median(wrongAdmin) / median(unknown)).toBeGreaterThan(0.4)
    // 15 scrypt checks: well under a second on a quiet machine, far longer on a loaded one.
  }, 120_000)

  it("refuses a deleted viewer's open polling on its next request, on the same connection", async () => {
    expect((await post({ username: 'erin', password: PASSWORD, plex_account_id: bob.account })).status).toBe(201)
    const erin = basic('erin', PASSWORD)
    for (let i = 0; i < 3; i++) expect((await get('/api/plex/sessions', erin)).status).toBe(200)
    expect((await fetch(`${t.url}/api/viewers/erin`, { method: 'DELETE', headers: admin })).status).toBe(204)
    const next = await get('/api/plex/sessions', erin)
    expect(next.status).toBe(401)
    // Made again with another password: the old one no longer signs in.
    expect((await post({ username: 'erin', password: `${PASSWORD} 2`, plex_account_id: bob.account })).status).toBe(201)
    expect((await get('/api/plex/sessions', erin)).status).toBe(401)
    expect((await get('/api/plex/sessions', basic('erin', `${PASSWORD} 2`))).status).toBe(200)
  }, 60_000)

  it('keeps passwords and the Plex token out of answers, logs and stored rows', async () => {
    const secrets = [PASSWORD, ADMIN.password, t.sim.token]
    for (const path of [
      '/api/viewers',
      '/api/plex/cache/stats',
      '/api/plex/sessions',
      '/api/plex/activities',
      '/api/health',
    ]) {
      const text = await (await get(path, admin)).text()
      for (const secret of secrets) expect(text, path).not.toContain(secret)
    }
    const stored = everyStoredText(t)
    const logs = t.logLines.join('\n')
    for (const secret of secrets) {
      expect(stored.filter((cell) => cell.includes(secret))).toEqual([])
      expect(logs).not.toContain(secret)
    }
    expect(stored.filter((cell) => cell.startsWith('viewers: scrypt$')).length).toBe(3)
  })
})

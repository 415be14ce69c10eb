import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import { basic, json, jsonInit, PLEX_TOKEN, type Raw, type TestApp, startService } from '../support/api-harness.js'
import { eventually } from '../support/eventually.js'
import { ADMIN, AUTH_ENV } from '../support/viewer-isolation.js'

// Issue 10's live caches (patched from Plex's notifications) and its fast hit path (hits
// answered in front of Fastify), with viewers: a viewer's answer is theirs whichever way it
// comes, and a patch reaches each viewer's view as the admin's value.

const admin = basic(ADMIN.user, ADMIN.password)
const PASSWORD = 'a long viewer password'

let sim: RunningSimulator
let t: TestApp
/** Requests that reached Fastify's hooks (past the auth hook: a 401 or 403 it answers is not counted). */
const throughFastify = { n: 0 }
let ann: { account: number; headers: Record<string, string>; session: string }
let bob: { account: number; headers: Record<string, string>; session: string }

const get = (path: string, headers: Record<string, string>) => fetch(t.url + path, { headers })
const sessionsOf = async (headers: Record<string, string>) =>
  (await json(await get('/api/plex/sessions', headers))).sessions as Raw[]

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    token: PLEX_TOKEN,
    seed: 11,
    items: 300,
    speed: 0,
    liveSessions: false,
    sharedUsers: 3,
  })
  t = await startService({
    // TTLs far beyond the test: anything that changes comes from a notification. Info level: hits take the fast path.
    env: {
      ...AUTH_ENV,
      LOG_LEVEL: 'info',
      PLEX_SERVER_URL: sim.url,
      PLEX_SERVER_TOKEN: PLEX_TOKEN,
      PLEX_TV_URL: sim.url,
      CACHE_SESSIONS_TTL: '600',
      CACHE_ACTIVITIES_TTL: '600',
    },
    runtime: {
      beforeListen: (app: FastifyInstance) =>
        app.addHook('onRequest', (_request, _reply, done) => {
          throughFastify.n++
          done()
        }),
    },
  })
  const [a, b] = sim.control.state().accounts.filter((account) => account.id > 1)
  const viewer = async (username: string, account: number) => {
    expect(
      (
        await fetch(
          `${t.url}/api/viewers`,
          jsonInit('POST', { username, password: PASSWORD, plex_account_id: account }, admin),
        )
      ).status,
    ).toBe(201)
    return {
      account,
      headers: basic(username, PASSWORD),
      session: String(sim.control.startSession({ accountId: account, kind: 'movie' }).sessionKey),
    }
  }
  ann = await viewer('ann', a!.id)
  bob = await viewer('bob', b!.id)
  sim.control.startActivity({ type: 'library.update.section', ticks: 40 })
  // The first requests fill the caches and sign the viewers in (scrypt, through Fastify).
  for (const headers of [admin, ann.headers, bob.headers]) {
    for (const path of ['/api/plex/sessions', '/api/plex/activities', '/api/plex/stats'])
      expect((await get(path, headers)).status).toBe(200)
  }
  t.runtime.push.start()
  await eventually('the stream is up', () => t.runtime.push.streaming)
  const sessions = t.runtime.caches.get('plex_sessions')!
  await eventually('the reload that follows a connect is done', () => sessions.stats().loads === 2)
}, 30_000)

afterAll(async () => {
  await t?.close()
  await sim?.close()
})

describe('viewers on the fast hit path', () => {
  it("answers each viewer's hits in front of Fastify with their own view, never the admin's or another's", async () => {
    const before = throughFastify.n
    for (let round = 0; round < 3; round++) {
      for (const [who, other] of [
        [ann, bob],
        [bob, ann],
      ] as const) {
        const sessions = await get('/api/plex/sessions', who.headers)
        expect(sessions.headers.get('x-cache')).toBe('HIT')
        const body = await json(sessions)
        expect(body.sessions.map((s: Raw) => s.session_id)).toEqual([who.session])
        expect(body.sessions.map((s: Raw) => s.user.id)).toEqual([String(who.account)])
        expect(body.total).toBe(1)
        const activities = (await json(await get('/api/plex/activities', who.headers))).activities as Raw[]
        expect(activities.map((item) => item.uuid)).toEqual([who.session])
        expect(JSON.stringify(activities)).not.toContain(`"sessionKey":"${other.session}"`)
        const stats = await json(await get('/api/plex/stats', who.headers))
        expect(stats).not.toHaveProperty('total_users')
      }
      const everyone = await json(await get('/api/plex/sessions', admin))
      expect(everyone.sessions.map((s: Raw) => s.session_id).sort()).toEqual([ann.session, bob.session].sort())
      expect(await json(await get('/api/plex/stats', admin))).toHaveProperty('total_users')
    }
    expect(throughFastify.n - before, 'every one of those hits skipped Fastify').toBe(0)
  })

  it("gives a viewer's ETag only to that viewer; conditional requests and other routes still go through Fastify", async () => {
    const etagOf = async (headers: Record<string, string>) =>
      (await get('/api/plex/sessions', headers)).headers.get('etag')!
    const [ofAnn, ofBob, ofAdmin] = [await etagOf(ann.headers), await etagOf(bob.headers), await etagOf(admin)]
    expect(new Set([ofAnn, ofBob, ofAdmin]).size).toBe(3)
    const before = throughFastify.n
    expect((await get('/api/plex/sessions', { ...bob.headers, 'if-none-match': ofAnn })).status).toBe(200)
    expect((await get('/api/plex/sessions', { ...ann.headers, 'if-none-match': ofAnn })).status).toBe(304)
    expect((await get('/api/plex/sessions', { ...admin, 'if-none-match': ofAnn })).status).toBe(200)
    expect(throughFastify.n - before, 'the three conditional requests').toBe(3)
    const live = await get('/api/plex/stats/live', ann.headers)
    expect(live.status, 'a public route without viewers’ views answers a viewer as anyone').toBe(200)
    expect(live.headers.get('x-cache')).toBe('HIT')
    const adminOnly = await get('/api/plex/transcode/sessions', ann.headers)
    expect(adminOnly.status).toBe(403)
    expect((await json(adminOnly)).detail).toContain('is for the admin only')
    expect(throughFastify.n - before, 'the public hit on the fast path; the 403 from the auth hook').toBe(3)
  })

  it('sends a first sign-in through Fastify (scrypt), and its hits after it in front of Fastify', async () => {
    expect(
      (
        await fetch(
          `${t.url}/api/viewers`,
          jsonInit('POST', { username: 'carol', password: PASSWORD, plex_account_id: ann.account }, admin),
        )
      ).status,
    ).toBe(201)
    const carol = basic('carol', PASSWORD)
    const before = throughFastify.n
    expect((await sessionsOf(carol)).map((s) => s.session_id)).toEqual([ann.session])
    expect(throughFastify.n - before).toBe(1)
    expect((await sessionsOf(carol)).map((s) => s.session_id)).toEqual([ann.session])
    expect(throughFastify.n - before).toBe(1)
    expect((await get('/api/plex/sessions', basic('carol', 'not the password'))).status).toBe(401)
    expect((await fetch(`${t.url}/api/viewers/carol`, { method: 'DELETE', headers: admin })).status).toBe(204)
    expect((await get('/api/plex/sessions', carol)).status, 'deleted: the fast path no longer knows the login').toBe(
      401,
    )
  })
})

describe('viewers and sessions patched from Plex notifications', () => {
  it("a seek in a viewer's stream reaches their view, without a Plex load; another viewer's view is the same as before", async () => {
    const sessions = t.runtime.caches.get('plex_sessions')!
    const loads = sessions.stats().loads
    const bobBefore = await get('/api/plex/sessions', bob.headers)
    const bobEtag = bobBefore.headers.get('etag')
    const bobBody = (await json(bobBefore)).sessions
    const annEtag = (await get('/api/plex/sessions', ann.headers)).headers.get('etag')
    const position = (await sessionsOf(ann.headers))[0]!.playback.position_ms as number

    sim.control.seekSession(ann.session, position + 600_000)
    await eventually(
      'ann sees her new position',
      async () => (await sessionsOf(ann.headers))[0]!.playback.position_ms === position + 600_000,
      5_000,
    )
    expect(sessions.stats().loads, 'patched, not reloaded').toBe(loads)

    const annNow = await get('/api/plex/sessions', ann.headers)
    expect(annNow.headers.get('etag')).not.toBe(annEtag)
    const annSessions = (await json(annNow)).sessions as Raw[]
    expect(annSessions.map((s) => s.user.id)).toEqual([String(ann.account)])
    const adminView = (await sessionsOf(admin)).find((s) => s.session_id === ann.session)
    expect(annSessions[0]).toEqual(adminView)

    const bobNow = await get('/api/plex/sessions', bob.headers)
    expect(bobNow.headers.get('etag')).toBe(bobEtag)
    expect((await json(bobNow)).sessions).toEqual(bobBody)
  })

  it("a pause reaches only the paused viewer's activities", async () => {
    sim.control.pauseSession(bob.session)
    await eventually(
      'bob sees his stream paused',
      async () => {
        const items = (await json(await get('/api/plex/activities', bob.headers))).activities as Raw[]
        return items.length === 1 && items[0]!.type === 'pause'
      },
      5_000,
    )
    const annItems = (await json(await get('/api/plex/activities', ann.headers))).activities as Raw[]
    expect(annItems.map((item) => [item.uuid, item.type])).toEqual([
      [ann.session, expect.not.stringMatching(/^pause$/)],
    ])
    const everyone = (await json(await get('/api/plex/activities', admin))).activities as Raw[]
    expect(everyone.length).toBe(3)
  })
})

import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/cache/index.js'
import { basic, jsonInit, startService, type TestApp } from '../support/api-harness.js'
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js'

const ADMIN = { user: 'admin', password: 'correct horse battery' }
const admin = basic(ADMIN.user, ADMIN.password)
const PASSWORD = 'viewer password 1'
const AUTH = { ENABLE_AUTH: 'true', AUTH_USERNAME: ADMIN.user, AUTH_PASSWORD: ADMIN.password }

interface Answer {
  status: number
  retryAfter: string | undefined
  detail: string | undefined
}

/** GET /api/health (which checks credentials that are sent) with these credentials, from `localAddress`. */
function signIn(t: TestApp, user: string, password: string, localAddress = '127.0.0.1'): Promise<Answer> {
  const { port } = new URL(t.url)
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/api/health', localAddress, headers: basic(user, password) },
      (res) => {
        let text = ''
        res.on('data', (chunk: Buffer) => (text += chunk.toString()))
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            retryAfter: res.headers['retry-after'],
            detail: (JSON.parse(text) as { detail?: string }).detail,
          }),
        )
      },
    )
    req.on('error', reject)
    req.end()
  })
}

async function checks(t: TestApp): Promise<{ checks: number; knownFailures: number; throttled: number }> {
  const metrics = parsePrometheusText(await (await fetch(`${t.url}/metrics`, { headers: admin })).text())
  return {
    checks: sampleValue(metrics, 'login_password_checks_total'),
    knownFailures: sampleValue(metrics, 'login_refusals_total', { reason: 'known_failure' }),
    throttled: sampleValue(metrics, 'login_refusals_total', { reason: 'throttled' }),
  }
}

async function startWithViewer(env: Record<string, string>, clock = new ManualClock()) {
  const t = await startService({ env: { ...AUTH, LOG_LEVEL: 'info', ...env }, clock })
  const made = await fetch(
    `${t.url}/api/viewers`,
    jsonInit('POST', { username: 'ann', password: PASSWORD, plex_account_id: 7 }, admin),
  )
  expect(made.status).toBe(201)
  return { t, clock }
}

describe('failed sign-ins cost the caller', () => {
  let t: TestApp | undefined
  afterEach(async () => {
    await t?.close()
    t = undefined
  })

  it('refuses credentials that just failed without a new password check, until the window passes', async () => {
    const started = await startWithViewer({ LOGIN_FAILURE_WINDOW: '60' })
    t = started.t
    expect((await signIn(t, 'ann', 'wrong')).status).toBe(401)
    expect((await signIn(t, 'nobody', 'wrong')).status).toBe(401)
    expect(await checks(t)).toMatchObject({ checks: 2, knownFailures: 0 })
    // Again, an unknown name and a wrong password alike: refused from memory.
    expect((await signIn(t, 'ann', 'wrong')).status).toBe(401)
    expect((await signIn(t, 'nobody', 'wrong')).status).toBe(401)
    expect(await checks(t)).toMatchObject({ checks: 2, knownFailures: 2 })
    await started.clock.advance(60_000)
    expect((await signIn(t, 'ann', 'wrong')).status).toBe(401)
    expect(await checks(t)).toMatchObject({ checks: 3, knownFailures: 2 })
    // The right password is not refused for the wrong one's failure.
    expect((await signIn(t, 'ann', PASSWORD)).status).toBe(200)
  })

  it('answers a client past LOGIN_FAILURES_PER_CLIENT with a 429 and Retry-After, other clients and signed-in callers unaffected', async () => {
    const started = await startWithViewer({
      LOGIN_FAILURES_PER_CLIENT: '3',
      LOGIN_FAILURE_WINDOW: '60',
      LOGIN_FAILURES_PER_SECOND: '1000',
    })
    t = started.t
    // Ann signs in before the failures: a sign-in that passed is never checked again.
    expect((await signIn(t, 'ann', PASSWORD)).status).toBe(200)
    for (let i = 0; i < 3; i++) expect((await signIn(t, 'ann', `wrong ${i}`)).status).toBe(401)
    const refused = await signIn(t, 'ann', 'wrong 4')
    expect(refused.status).toBe(429)
    expect(refused.retryAfter).toBe('60')
    expect(refused.detail).toContain('LOGIN_FAILURES_PER_CLIENT')
    expect(await checks(t)).toMatchObject({ checks: 4, throttled: 1 })
    // Another address is checked; the admin and Ann (remembered) still sign in from the first.
    expect((await signIn(t, 'ann', 'wrong 5', '127.0.0.2')).status).toBe(401)
    expect((await signIn(t, ADMIN.user, ADMIN.password)).status).toBe(200)
    expect((await signIn(t, 'ann', PASSWORD)).status).toBe(200)
    expect(await checks(t)).toMatchObject({ checks: 5 })
    await started.clock.advance(59_000)
    expect((await signIn(t, 'ann', 'wrong 6')).status).toBe(429)
    await started.clock.advance(1_000)
    expect((await signIn(t, 'ann', 'wrong 7')).status).toBe(401)
    expect(await checks(t)).toMatchObject({ checks: 6 })
  })

  it('bounds the failed sign-ins of all clients together by LOGIN_FAILURES_PER_SECOND, counted before any fails', async () => {
    const started = await startWithViewer({ LOGIN_FAILURES_PER_CLIENT: '1000', LOGIN_FAILURES_PER_SECOND: '2' })
    t = started.t
    const app = t
    const burst = await Promise.all([1, 2, 3, 4, 5].map((i) => signIn(app, `user${i}`, 'wrong', `127.0.0.${i + 1}`)))
    expect(burst.map((a) => a.status).sort()).toEqual([401, 401, 429, 429, 429])
    const refused = burst.find((a) => a.status === 429)!
    expect(refused.retryAfter).toBe('1')
    expect(refused.detail).toContain('LOGIN_FAILURES_PER_SECOND')
    expect(await checks(t)).toMatchObject({ checks: 2, throttled: 3 })
    await started.clock.advance(1_000)
    expect((await signIn(t, 'user9', 'wrong', '127.0.0.9')).status).toBe(401)
    expect(await checks(t)).toMatchObject({ checks: 3 })
  })

  it('gives a sign-in that passed its slot back', async () => {
    const started = await startWithViewer({ LOGIN_FAILURES_PER_CLIENT: '2', LOGIN_FAILURES_PER_SECOND: '1000' })
    t = started.t
    expect((await signIn(t, 'ann', PASSWORD)).status).toBe(200)
    expect((await signIn(t, 'ann', 'wrong 1')).status).toBe(401)
    expect((await signIn(t, 'ann', 'wrong 2')).status).toBe(401)
    expect((await signIn(t, 'ann', 'wrong 3')).status).toBe(429)
  })

  it('lets a burst of right first sign-ins from one address through, past LOGIN_FAILURES_PER_CLIENT', async () => {
    const started = await startWithViewer({ LOGIN_FAILURES_PER_CLIENT: '2', LOGIN_FAILURES_PER_SECOND: '1000' })
    t = started.t
    const app = t
    for (const name of ['v1', 'v2', 'v3', 'v4']) {
      const body = { username: name, password: PASSWORD, plex_account_id: 9 }
      expect((await fetch(`${app.url}/api/viewers`, jsonInit('POST', body, admin))).status).toBe(201)
    }
    const answers = await Promise.all(['ann', 'v1', 'v2', 'v3', 'v4'].map((name) => signIn(app, name, PASSWORD)))
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200])
  })

  it('runs at most LOGIN_CHECK_CONCURRENCY password checks at once', async () => {
    const started = await startWithViewer({
      LOGIN_FAILURES_PER_CLIENT: '1000',
      LOGIN_FAILURES_PER_SECOND: '1000',
      LOGIN_CHECK_CONCURRENCY: '1',
    })
    t = started.t
    const app = t
    const answers = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => signIn(app, 'ann', `wrong ${i}`)))
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 401, 401, 401])
    expect(await checks(t)).toMatchObject({ checks: 6 })
    expect(app.app.loginLimits?.counts.peakConcurrent).toBe(1)
  })

  it('lets a viewer made after their password failed sign in at once', async () => {
    const started = await startWithViewer({})
    t = started.t
    expect((await signIn(t, 'dora', PASSWORD)).status).toBe(401)
    const made = await fetch(
      `${t.url}/api/viewers`,
      jsonInit('POST', { username: 'dora', password: PASSWORD, plex_account_id: 8 }, admin),
    )
    expect(made.status).toBe(201)
    expect((await signIn(t, 'dora', PASSWORD)).status).toBe(200)
  })
})

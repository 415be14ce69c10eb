// The service in front of a hostile "Plex": routes answer 502 with a detail naming the cap (never
// the token), and /api/health keeps answering while the upstream attacks (a liveness check with
// a bound generous enough for a loaded CI machine; the event-loop delay itself is asserted in
// test/plex/hostile-upstream.test.ts).
import { afterEach, describe, expect, it } from 'vitest'
import { parsePool } from '../../src/plex/parse-pool.js'
import { largeXml, startHostilePlex, type Attack, type HostileServer } from '../support/hostile-plex.js'
import { type TestApp, startService } from '../support/api-harness.js'
import { sleep } from '../support/eventually.js'

const TOKEN = 'hostile-api-token-7Hq2'

let app: TestApp | undefined
let plex: HostileServer | undefined
afterEach(async () => {
  await app?.close()
  await plex?.close()
  app = plex = undefined
})

async function serviceBehind(attack: Attack, env: Record<string, string> = {}): Promise<TestApp> {
  plex = await startHostilePlex(attack)
  app = await startService({ env: { PLEX_SERVER_URL: plex.url, PLEX_SERVER_TOKEN: TOKEN, ...env } })
  return app
}

/** Polls /api/health every 20 ms until `done` settles; resolves the slowest answer and the count. */
async function healthDuring(
  url: string,
  done: Promise<unknown>,
): Promise<{ answered: number; failed: number; slowestMs: number }> {
  let finished = false
  void done.finally(() => (finished = true))
  let answered = 0
  let failed = 0
  let slowestMs = 0
  while (!finished) {
    const started = performance.now()
    const res = await fetch(`${url}/api/health`).catch(() => undefined)
    slowestMs = Math.max(slowestMs, performance.now() - started)
    if (res?.status === 200) answered++
    else failed++
    await res?.arrayBuffer()
    await sleep(20)
  }
  return { answered, failed, slowestMs }
}

describe('a hostile Plex', () => {
  it('an endless body: 502 with the cap in the detail, and health answers meanwhile', async () => {
    // 4 MiB: the default 64 MiB takes longer than the 10 s Plex deadline to stream on a loaded
    // CI machine (the default itself is covered in test/plex/hostile-upstream.test.ts).
    const { url } = await serviceBehind('endless', { PLEX_MAX_RESPONSE_BYTES: String(4 * 1024 * 1024) })
    const sessions = fetch(`${url}/api/plex/sessions`)
    const health = await healthDuring(url, sessions)
    const res = await sessions
    const body = (await res.json()) as { detail: string }
    expect(res.status).toBe(502)
    expect(body.detail).toContain('PLEX_MAX_RESPONSE_BYTES')
    expect(body.detail).toContain('4 MiB')
    expect(JSON.stringify(body)).not.toContain(TOKEN)
    expect(health.failed).toBe(0)
    expect(health.answered).toBeGreaterThan(0)
    // The hostile server pumps from this same process and event loop: a loose bound.
    expect(health.slowestMs).toBeLessThan(5_000)
  })

  it('the cap follows PLEX_MAX_RESPONSE_BYTES', async () => {
    const { url } = await serviceBehind('endless', { PLEX_MAX_RESPONSE_BYTES: '1048576' })
    const res = await fetch(`${url}/api/plex/activities`)
    expect(res.status).toBe(502)
    expect(((await res.json()) as { detail: string }).detail).toContain(
      'more than the 1 MiB allowed (PLEX_MAX_RESPONSE_BYTES)',
    )
  })

  it('XML on the parse worker: health answers while it parses', async () => {
    // 0.3 MB, on a worker already started: the parse stays well within validate's 5 s deadline
    // even on a loaded CI machine.
    await parsePool.decodeInWorker(Buffer.from('<MediaContainer/>'), 'text/xml')
    const { url } = await serviceBehind({ body: largeXml(0.3).xml, contentType: 'text/xml' })
    const validate = fetch(`${url}/api/plex/validate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: plex!.url, token: TOKEN }),
    })
    const health = await healthDuring(url, validate)
    const res = await validate
    expect(res.status).toBe(200)
    const answer = await res.json()
    expect(answer).toMatchObject({ valid: true, server_name: 'Huge' })
    expect(health.failed).toBe(0)
    expect(health.slowestMs).toBeLessThan(2_000)
  })
})

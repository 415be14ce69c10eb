import { afterEach, describe, expect, it } from 'vitest'
import { answerOf, RECORDED_TOKEN, startMirror, startRecordedPms, type MirrorApp, type RecordedPms } from './harness.js'

let pms: RecordedPms | undefined
let mirror: MirrorApp | undefined
afterEach(async () => {
  await mirror?.close()
  await pms?.close()
  mirror = pms = undefined
})

const SESSIONS = '/status/sessions'

describe('tokens at the mirror', () => {
  it('answers a missing or wrong token with PMS’s own 401, asking PMS each time and caching nothing', async () => {
    pms = await startRecordedPms()
    mirror = await startMirror(pms.url)
    const direct = await answerOf(await fetch(pms.url + SESSIONS, { headers: { 'X-Plex-Token': 'wrong-token-1234' } }))
    expect(direct.status).toBe(401)
    await pms.control('reset')
    const asks: Array<Record<string, string>> = [
      {},
      { 'X-Plex-Token': 'wrong-token-1234' },
      {},
      { 'X-Plex-Token': 'x' },
    ]
    for (const headers of asks) {
      const res = await fetch(mirror.url + SESSIONS, { headers })
      expect(res.headers.get('x-cache')).toBeNull()
      const answer = await answerOf(res)
      expect(answer).toEqual(direct)
    }
    const viaQuery = await answerOf(await fetch(`${mirror.url}${SESSIONS}?X-Plex-Token=wrong-token-1234`))
    expect(viaQuery).toEqual(direct)
    expect((await pms.counts())[SESSIONS]).toBe(5)
  })

  it('serves the server’s own token from the cache, in the header or the query', async () => {
    pms = await startRecordedPms()
    mirror = await startMirror(pms.url)
    await pms.control('reset')
    const first = await fetch(`${mirror.url}${SESSIONS}?X-Plex-Token=${RECORDED_TOKEN}`)
    expect(first.headers.get('x-cache')).toBe('MISS')
    const second = await fetch(mirror.url + SESSIONS, { headers: { 'X-Plex-Token': RECORDED_TOKEN } })
    expect(second.headers.get('x-cache')).toBe('HIT')
    expect((await answerOf(second)).body.equals((await answerOf(first)).body)).toBe(true)
    expect((await pms.counts())[SESSIONS]).toBe(1)
  })

  it('passes another account’s token to PMS as is, every time, never from the cache', async () => {
    pms = await startRecordedPms()
    // The service holds a token of its own; the token PMS accepts here is another account's.
    mirror = await startMirror(pms.url, { env: { PLEX_SERVER_TOKEN: 'the-servers-own-token-99' } })
    const headers = { 'X-Plex-Token': RECORDED_TOKEN, Accept: 'application/json' }
    const direct = await answerOf(await fetch(pms.url + SESSIONS, { headers }))
    expect(direct.status).toBe(200)
    await pms.control('reset')
    for (let i = 0; i < 3; i++) {
      const res = await fetch(mirror.url + SESSIONS, { headers })
      expect(res.headers.get('x-cache')).toBeNull()
      expect(await answerOf(res)).toEqual(direct)
    }
    expect((await pms.counts())[SESSIONS]).toBe(3)
  })

  it('never writes a token into a log line or a metric', async () => {
    pms = await startRecordedPms()
    mirror = await startMirror(pms.url, { env: { LOG_LEVEL: 'debug' } })
    await fetch(`${mirror.url}${SESSIONS}?X-Plex-Token=${RECORDED_TOKEN}`).then((r) => r.arrayBuffer())
    await fetch(`${mirror.url}/library/sections?X-Plex-Token=another-accounts-token`).then((r) => r.arrayBuffer())
    await fetch(`${mirror.url}/some/other/path?X-Plex-Token=${RECORDED_TOKEN}`).then((r) => r.arrayBuffer())
    const metrics = await mirror.app.runtime.metrics!.scrape()
    expect(metrics).toContain('komandorr_mirror_requests_total{pattern="/status/sessions",answer="miss"} 1')
    expect(metrics).toContain('komandorr_mirror_requests_total{pattern="/library/sections",answer="pass"} 1')
    expect(metrics).toContain('komandorr_mirror_requests_total{pattern="pass-through",answer="pass"} 1')
    const page = (await (await fetch(`${mirror.app.url}/api/plex/mirror`)).json()) as {
      enabled: boolean
      port: number
      patterns: Array<{ pattern: string; miss: number; pass: number }>
    }
    expect(page.enabled).toBe(true)
    expect(`http://127.0.0.1:${page.port}`).toBe(mirror.url)
    expect(page.patterns.find((p) => p.pattern === '/status/sessions')).toMatchObject({ miss: 1, pass: 0 })
    expect(page.patterns.find((p) => p.pattern === '/library/sections')).toMatchObject({ miss: 0, pass: 1 })
    for (const text of [metrics, JSON.stringify(page), ...mirror.app.logLines]) {
      expect(text).not.toContain(RECORDED_TOKEN)
      expect(text).not.toContain('another-accounts-token')
    }
  })
})

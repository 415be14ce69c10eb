import { afterEach, describe, expect, it } from 'vitest'
import { sleep } from '../support/eventually.js'
import { answerOf, RECORDED_TOKEN, startMirror, startRecordedPms, type MirrorApp, type RecordedPms } from './harness.js'

let pms: RecordedPms | undefined
let mirror: MirrorApp | undefined
afterEach(async () => {
  await mirror?.close()
  await pms?.close()
  mirror = pms = undefined
})

const headers = { 'X-Plex-Token': RECORDED_TOKEN }

describe('the mirror while PMS is down', () => {
  it('serves the last good answer stale, and PMS’s own error for what it never held', async () => {
    pms = await startRecordedPms()
    mirror = await startMirror(pms.url, { env: { CACHE_MIRROR_LIVE_TTL: '1' } })
    const good = await answerOf(await fetch(mirror.url + '/status/sessions', { headers }))
    expect(good.status).toBe(200)
    await pms.control('down')
    const pmsAnswerWhileDown = await answerOf(await fetch(pms.url + '/library/recentlyAdded', { headers }))
    expect(pmsAnswerWhileDown.status).toBe(503)
    await sleep(1_100) // past the 1 s TTL

    const stale = await fetch(mirror.url + '/status/sessions', { headers })
    expect(stale.headers.get('x-cache')).toBe('STALE')
    expect(await answerOf(stale)).toEqual(good)

    const never = await fetch(mirror.url + '/library/recentlyAdded', { headers })
    expect(await answerOf(never)).toEqual(pmsAnswerWhileDown)
  })

  it('answers 502 for what it never held once PMS cannot be reached at all, and stale for the rest', async () => {
    pms = await startRecordedPms()
    mirror = await startMirror(pms.url, { env: { CACHE_MIRROR_LIVE_TTL: '1' } })
    const good = await answerOf(await fetch(mirror.url + '/activities', { headers }))
    await pms.close()
    pms = undefined
    await sleep(1_100)
    const stale = await fetch(mirror.url + '/activities', { headers })
    expect(stale.headers.get('x-cache')).toBe('STALE')
    expect(await answerOf(stale)).toEqual(good)
    const never = await fetch(mirror.url + '/library/sections', { headers })
    expect(never.status).toBe(502)
    expect(await never.text()).toMatch(/^502 Bad Gateway: the Plex Media Server did not answer/)
    const passed = await fetch(mirror.url + '/video/:/transcode/universal/start.m3u8', { headers })
    expect(passed.status).toBe(502)
  })
})

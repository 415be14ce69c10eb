import { afterEach, describe, expect, it } from 'vitest'
import { json } from '../support/api-harness.js'
import { RECORDED_TOKEN, startMirror, startRecordedPms, type MirrorApp, type RecordedPms } from './harness.js'

let pms: RecordedPms | undefined
let mirror: MirrorApp | undefined
afterEach(async () => {
  await mirror?.close()
  await pms?.close()
  mirror = pms = undefined
})

const asTool = { 'X-Plex-Token': RECORDED_TOKEN, Accept: 'application/json' }

describe('one PMS load for the mirror and the JSON caches', () => {
  it('a JSON cache’s load fills the mirror: a tool asking the same answer gets a hit', async () => {
    pms = await startRecordedPms()
    mirror = await startMirror(pms.url)
    await pms.control('reset')
    const api = await fetch(`${mirror.app.url}/api/plex/transcode/sessions`)
    expect((await json(api)).transcode_sessions.length).toBeGreaterThan(0)
    const tool = await fetch(`${mirror.url}/transcode/sessions`, { headers: asTool })
    expect(tool.headers.get('x-cache')).toBe('HIT')
    expect((await pms.counts())['/transcode/sessions']).toBe(1)
  })

  it('a tool’s load serves the JSON cache that parses the same answer', async () => {
    pms = await startRecordedPms()
    mirror = await startMirror(pms.url)
    await pms.control('reset')
    const tool = await fetch(`${mirror.url}/transcode/sessions`, { headers: asTool })
    expect(tool.headers.get('x-cache')).toBe('MISS')
    const api = await fetch(`${mirror.app.url}/api/plex/transcode/sessions`)
    expect(api.headers.get('x-cache')).toBe('MISS')
    expect((await json(api)).total).toBeGreaterThan(0)
    expect((await pms.counts())['/transcode/sessions']).toBe(1)
  })

  it('without the mirror the JSON caches ask PMS themselves', async () => {
    pms = await startRecordedPms()
    mirror = await startMirror(pms.url)
    await mirror.app.runtime.mirror!.close()
    await pms.control('reset')
    await (await fetch(`${mirror.app.url}/api/plex/transcode/sessions`)).text()
    expect((await pms.counts())['/transcode/sessions']).toBe(1)
  })
})

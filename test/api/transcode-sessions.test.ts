import { afterEach, describe, expect, it } from 'vitest'
import { json, PLEX_TOKEN, simJson, type PlexApp, type Raw, startService } from '../support/api-harness.js'
import { eventually } from '../support/eventually.js'

let setup: PlexApp | undefined
afterEach(async () => {
  await setup?.close()
  setup = undefined
})

const PATH = '/api/plex/transcode/sessions'

/** What the service should answer for one PMS `TranscodeSession`: its fields in snake_case, null when absent. */
function expectedView(t: Raw): Raw {
  const field = (name: string) => t[name] ?? null
  return {
    key: field('key'),
    throttled: field('throttled'),
    complete: field('complete'),
    progress: field('progress'),
    speed: field('speed'),
    duration: field('duration'),
    remaining: field('remaining'),
    context: field('context'),
    source_video_codec: field('sourceVideoCodec'),
    source_audio_codec: field('sourceAudioCodec'),
    video_decision: field('videoDecision'),
    audio_decision: field('audioDecision'),
    protocol: field('protocol'),
    container: field('container'),
    video_codec: field('videoCodec'),
    audio_codec: field('audioCodec'),
    width: field('width'),
    height: field('height'),
    transcode_hw_requested: field('transcodeHwRequested'),
    transcode_hw_full_pipeline: field('transcodeHwFullPipeline'),
  }
}

describe('GET /api/plex/transcode/sessions', () => {
  it('serves the transcodes PMS runs, field by field, then answers from memory with the same ETag', async () => {
    setup = await startService({ plex: true })
    setup.sim.control.startSession({ kind: 'episode', transcode: true })
    setup.sim.control.startSession({ kind: 'track', transcode: true })
    setup.sim.control.startSession({ kind: 'movie', transcode: false })
    const pms = (await simJson(setup.sim, '/transcode/sessions')).TranscodeSession as Raw[]
    expect(pms).toHaveLength(2)
    setup.sim.control.resetCounts()

    const first = await setup.fetch(PATH)
    expect(first.status).toBe(200)
    expect(first.headers.get('x-cache')).toBe('MISS')
    const body = await json(first)
    expect(body).toMatchObject({ error: false, total: 2, cached: false })
    expect(body.transcode_sessions).toEqual(pms.map(expectedView))
    // The audio-only transcode has no video fields: null, not left out.
    expect(body.transcode_sessions.find((t: Raw) => t.video_decision === null)).toMatchObject({
      width: null,
      height: null,
      video_codec: null,
    })
    expect(JSON.stringify(body)).not.toContain(PLEX_TOKEN)

    const second = await setup.fetch(PATH)
    expect(second.headers.get('x-cache')).toBe('HIT')
    expect((await json(second)).transcode_sessions).toEqual(body.transcode_sessions)
    const etag = second.headers.get('etag')!
    expect((await setup.fetch(PATH, { headers: { 'if-none-match': etag } })).status).toBe(304)
    expect(setup.counts()['/transcode/sessions']).toBe(1)
  })

  it('answers its not-configured form without asking Plex, and caches nothing', async () => {
    setup = await startService({ plex: true, configured: false })
    const response = await setup.fetch(PATH)
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual({
      error: false,
      transcode_sessions: [],
      message: 'Plex server not configured',
    })
    expect(setup.sim.control.totalRequests()).toBe(0)
    expect(setup.runtime.caches.get('plex_transcode_sessions')!.stats().entries).toBe(0)
  })

  it('answers 503 with error, an empty list and a detail while Plex drops connections and nothing was cached', async () => {
    setup = await startService({ plex: true })
    await setup.sim.control.setFault({ endpoint: '/transcode/sessions', mode: 'drop' })
    const down = await setup.fetch(PATH)
    expect(down.status).toBe(503)
    const body = await json(down)
    expect(body).toMatchObject({ error: true, transcode_sessions: [], message: body.detail })
    expect(body.detail).toMatch(/Plex transcode sessions/)
    expect(setup.runtime.caches.get('plex_transcode_sessions')!.stats().entries).toBe(0)
  })

  it('shows a transcode that starts, progresses and ends long before its TTL, through Plex notifications', async () => {
    setup = await startService({ plex: true, env: { CACHE_TRANSCODE_SESSIONS_TTL: '600' } })
    setup.runtime.push.start()
    await eventually(
      'the push listener is connected',
      () => setup!.sim.control.state().notificationClients.websocket === 1,
    )
    const read = async () => json(await setup!.fetch(PATH))
    expect((await read()).total).toBe(0)

    const started = setup.sim.control.startSession({ kind: 'movie', transcode: true })
    await eventually('the new transcode is served', async () => (await read()).total === 1)
    setup.sim.control.advance(60)
    const progressed = ((await simJson(setup.sim, '/transcode/sessions')).TranscodeSession as Raw[])[0]!
    await eventually(
      'the progress update is served',
      async () => (await read()).transcode_sessions[0]?.progress === progressed.progress,
    )
    setup.sim.control.stopSession(started.sessionKey)
    await eventually('the end is served', async () => (await read()).total === 0)
    expect(setup.counts()['/transcode/sessions']).toBeGreaterThanOrEqual(3)
  })
})

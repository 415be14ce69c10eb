import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import { countOf, json, PLEX_TOKEN, type PlexApp, type Raw, simJson, startService } from '../support/api-harness.js'
import { eventually } from '../support/eventually.js'

let setup: PlexApp | undefined
const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  await setup?.close()
  setup = undefined
  for (const close of closers.splice(0).reverse()) await close()
})

describe('GET /api/plex/sessions', () => {
  it('maps a transcoded episode field by field: titles, show poster, playback, device, transcode and stream', async () => {
    setup = await startService({ plex: true })
    const started = setup.sim.control.startSession({ kind: 'episode', transcode: true, viewOffset: 600_000 })
    const raw = (await rawSessions(setup.sim)).find((s) => s.sessionKey === started.sessionKey)!
    const body = await json(await setup.fetch('/api/plex/sessions'))

    expect(body).toMatchObject({ error: false, total: 1, cached: false })
    const [session] = body.sessions
    const selected = raw.Media.find((m: Raw) => m.selected) ?? raw.Media[0]
    const base = setup.sim.url
    expect(session).toEqual({
      session_id: started.sessionKey,
      user: { name: started.userName, id: String(started.accountId), thumb: raw.User.thumb },
      media: {
        title: `${raw.grandparentTitle} - S${pad(raw.parentIndex)}E${pad(raw.index)} - ${raw.title}`,
        type: 'episode',
        year: raw.year,
        rating: raw.rating ?? null,
        thumb: base + raw.grandparentThumb,
        art: base + (raw.grandparentArt ?? raw.art),
      },
      playback: {
        state: 'playing',
        progress: pct(600_000, raw.duration),
        position_ms: 600_000,
        duration_ms: raw.duration,
      },
      device: { name: raw.Player.device, client: raw.Player.product, platform: raw.Player.platform },
      transcode: {
        is_transcoding:
          raw.TranscodeSession.videoDecision === 'transcode' || raw.TranscodeSession.audioDecision === 'transcode',
        speed: raw.TranscodeSession.speed,
        video_decision: raw.TranscodeSession.videoDecision,
        audio_decision: raw.TranscodeSession.audioDecision,
      },
      stream: {
        video_resolution: selected.videoResolution,
        video_codec: selected.videoCodec,
        audio_codec: selected.audioCodec,
        container: selected.container,
        bitrate: selected.bitrate,
        location: raw.Session.location,
        bandwidth: raw.Session.bandwidth,
      },
    })
    expect(session.transcode.is_transcoding).toBe(true)
    const text = JSON.stringify(body)
    expect(text).not.toContain(PLEX_TOKEN)
    expect(text).not.toMatch(/x-plex-token/i)
  })

  it('reports a direct play with every transcode field null or false, and the stream of the selected Media', async () => {
    setup = await startService({ plex: true })
    const started = setup.sim.control.startSession({
      kind: 'movie',
      transcode: false,
      multipleMedia: true,
      paused: true,
    })
    const raw = (await rawSessions(setup.sim)).find((s) => s.sessionKey === started.sessionKey)!
    expect(raw.Media).toHaveLength(2)
    const selected = raw.Media.find((m: Raw) => m.selected === true || m.selected === 1 || m.selected === '1')
    expect(selected).toBeDefined()

    const [session] = (await json(await setup.fetch('/api/plex/sessions'))).sessions
    expect(session.transcode).toEqual({
      is_transcoding: false,
      speed: null,
      video_decision: null,
      audio_decision: null,
    })
    expect(session.playback.state).toBe('paused')
    expect(session.media).toMatchObject({ title: raw.title, type: 'movie', thumb: setup.sim.url + raw.thumb })
    expect(session.stream).toMatchObject({
      video_resolution: selected.videoResolution,
      video_codec: selected.videoCodec,
      audio_codec: selected.audioCodec,
      container: selected.container,
      bitrate: selected.bitrate,
    })
  })

  it('copes with live TV, a preroll, an unknown item, music and photos', async () => {
    setup = await startService({ plex: true })
    const { control } = setup.sim
    const kinds = ['livetv', 'preroll', 'unknown', 'track', 'photo'] as const
    const started = kinds.map((kind) => control.startSession({ kind, transcode: false }))
    const raw = await rawSessions(setup.sim)

    const response = await setup.fetch('/api/plex/sessions')
    expect(response.status).toBe(200)
    const body = await json(response)
    expect(body.total).toBe(5)
    const byKey = new Map(body.sessions.map((s: Raw) => [s.session_id, s]))
    const live = byKey.get(started[0]!.sessionKey) as Raw
    const liveRaw = raw.find((s) => s.sessionKey === started[0]!.sessionKey)!
    expect(liveRaw.ratingKey).toBeUndefined()
    expect(live.media).toMatchObject({
      type: 'episode',
      title: `${liveRaw.grandparentTitle} - ${liveRaw.title}`,
      thumb: null,
    })
    expect((byKey.get(started[1]!.sessionKey) as Raw).media).toMatchObject({ type: 'clip', title: started[1]!.title })
    expect((byKey.get(started[2]!.sessionKey) as Raw).media).toMatchObject({ type: 'clip', title: started[2]!.title })
    const track = byKey.get(started[3]!.sessionKey) as Raw
    expect(track.media.type).toBe('track')
    expect(track.stream.video_resolution).toBe('Unknown')
    const trackRaw = raw.find((r) => r.sessionKey === started[3]!.sessionKey)!
    expect(track.stream.audio_codec).toBe(trackRaw.Media[0].audioCodec)
    const photo = byKey.get(started[4]!.sessionKey) as Raw
    expect(photo.media.type).toBe('photo')
    expect(photo.playback).toMatchObject({ progress: 0 })
    for (const s of body.sessions as Raw[]) {
      expect(Object.keys(s).sort()).toEqual([
        'device',
        'media',
        'playback',
        'session_id',
        'stream',
        'transcode',
        'user',
      ])
    }
  })

  it('takes show posters from the sessions: several episodes of one show cost no metadata request', async () => {
    setup = await startService({ plex: true })
    const shows = await episodesByShow(setup.sim)
    const [showA, episodesA] = [...shows].find(([, eps]) => eps.length >= 3)!
    for (const ratingKey of episodesA.slice(0, 3)) setup.sim.control.startSession({ ratingKey, transcode: false })
    setup.sim.control.resetCounts()

    const body = await json(await setup.fetch('/api/plex/sessions'))
    expect(body.total).toBe(3)
    expect(new Set(body.sessions.map((s: Raw) => s.media.thumb)).size).toBe(1)
    expect(body.sessions[0].media.thumb).toContain(`/library/metadata/${showA}/thumb/`)
    expect(countOf(setup.sim, '/library/metadata')).toBe(0)
    expect(setup.sim.control.requestCounts()).toEqual({ '/status/sessions': 1 })
  })

  it('looks up posters the sessions lack in one batched request per load, once per show', async () => {
    const sim = await startSimulator({ port: 0, token: PLEX_TOKEN, seed: 1, items: 300, speed: 0, liveSessions: false })
    closers.push(() => sim.close())
    // A PMS whose sessions carry no grandparentThumb: the simulator behind a rewriting proxy.
    const proxy = await startPosterlessProxy(sim)
    closers.push(() => proxy.close())
    const app = await startService({
      env: {
        LOG_LEVEL: 'info',
        PLEX_SERVER_URL: proxy.url,
        PLEX_SERVER_TOKEN: PLEX_TOKEN,
        PLEX_TV_URL: sim.url,
      },
    })
    closers.push(() => app.close())

    const shows = [...(await episodesByShow(sim))].filter(([, eps]) => eps.length >= 2).slice(0, 2)
    expect(shows).toHaveLength(2)
    for (const [, episodes] of shows)
      for (const ratingKey of episodes.slice(0, 2)) sim.control.startSession({ ratingKey, transcode: false })
    sim.control.resetCounts()

    const body = await json(await fetch(`${app.url}/api/plex/sessions`))
    expect(body.total).toBe(4)
    expect(sim.control.requestCounts()).toEqual({ '/status/sessions': 1, '/library/metadata/:ids': 1 })
    const showThumbs = await showPosters(
      sim,
      shows.map(([key]) => key),
    )
    for (const session of body.sessions as Raw[]) {
      expect(Object.values(showThumbs).map((path) => proxy.url + path)).toContain(session.media.thumb)
    }
    expect(proxy.metadataPaths).toHaveLength(1)
    expect(proxy.metadataPaths[0]!.split('/').pop()!.split(',').sort()).toEqual(shows.map(([key]) => key).sort())

    const again = await fetch(`${app.url}/api/plex/sessions`)
    expect(again.headers.get('x-cache')).toBe('HIT')
    expect(proxy.metadataPaths).toHaveLength(1)
  })

  it('marks a hit, then answers 304 to the ETag', async () => {
    setup = await startService({ plex: true })
    setup.sim.control.startSession({ kind: 'movie' })
    const first = await setup.fetch('/api/plex/sessions')
    expect(first.headers.get('x-cache')).toBe('MISS')
    const second = await setup.fetch('/api/plex/sessions')
    expect(second.headers.get('x-cache')).toBe('HIT')
    expect((await json(second)).cached).toBe(true)
    const conditional = await setup.fetch('/api/plex/sessions', {
      headers: { 'if-none-match': second.headers.get('etag')! },
    })
    expect(conditional.status).toBe(304)
    expect(countOf(setup.sim, '/status/sessions')).toBe(1)
  })

  it('answers the not-configured form without touching the cache', async () => {
    setup = await startService({ plex: true, configured: false })
    const response = await setup.fetch('/api/plex/sessions')
    expect(response.status).toBe(200)
    expect(await json(response)).toEqual({ error: false, sessions: [], message: 'Plex server not configured' })
    expect(setup.sim.control.totalRequests()).toBe(0)
  })

  it('answers 503 with error, an empty list and a detail when Plex drops connections and nothing was cached; never caches the failure', async () => {
    setup = await startService({ plex: true })
    const started = setup.sim.control.startSession({ kind: 'movie' })
    await setup.sim.control.setFault({ endpoint: '/status/sessions', mode: 'drop' })
    const down = await setup.fetch('/api/plex/sessions')
    expect(down.status).toBe(503)
    const body = await json(down)
    expect(body).toMatchObject({ error: true, sessions: [], message: body.detail })
    expect(body.detail).toMatch(/Plex sessions/)
    expect(setup.runtime.caches.get('plex_sessions')!.stats().entries).toBe(0)

    await setup.sim.control.clearFaults()
    await eventually(
      'sessions load once Plex answers again',
      async () => (await setup!.fetch('/api/plex/sessions')).status === 200,
    )
    const back = await json(await setup.fetch('/api/plex/sessions'))
    expect(back.sessions.map((s: Raw) => s.session_id)).toEqual([started.sessionKey])
  })
})

const pad = (n: number) => String(n).padStart(2, '0')
const pct = (offset: number, duration: number) => Math.round((offset / duration) * 10_000) / 100

async function rawSessions(sim: RunningSimulator): Promise<Raw[]> {
  return (await simJson(sim, '/status/sessions')).Metadata ?? []
}

/** Episode ratingKeys of the TV section, grouped by their show's ratingKey. */
async function episodesByShow(sim: RunningSimulator): Promise<Map<string, string[]>> {
  const episodes: Raw[] = (await simJson(sim, '/library/sections/2/all?type=4')).Metadata ?? []
  const shows = new Map<string, string[]>()
  for (const e of episodes)
    shows.set(String(e.grandparentRatingKey), [
      ...(shows.get(String(e.grandparentRatingKey)) ?? []),
      String(e.ratingKey),
    ])
  return shows
}

async function showPosters(sim: RunningSimulator, keys: string[]): Promise<Record<string, string>> {
  const items: Raw[] = (await simJson(sim, `/library/metadata/${keys.join(',')}`)).Metadata ?? []
  return Object.fromEntries(items.map((i) => [String(i.ratingKey), String(i.thumb)]))
}

/** Forwards every request to the simulator, removing `grandparentThumb` from `/status/sessions`. */
async function startPosterlessProxy(
  sim: RunningSimulator,
): Promise<{ url: string; metadataPaths: string[]; close(): Promise<void> }> {
  const metadataPaths: string[] = []
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/'
    if (path.startsWith('/library/metadata/')) metadataPaths.push(path.split('?')[0]!)
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(req.headers))
      if (typeof value === 'string' && name !== 'host') headers[name] = value
    void fetch(sim.url + path, { headers })
      .then(async (upstream) => {
        let body = await upstream.text()
        if (path.startsWith('/status/sessions')) {
          const parsed = JSON.parse(body) as { MediaContainer: { Metadata?: Raw[] } }
          for (const m of parsed.MediaContainer.Metadata ?? []) delete m.grandparentThumb
          body = JSON.stringify(parsed)
        }
        res
          .writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' })
          .end(body)
      })
      .catch(() => res.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    metadataPaths,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import { getJson } from './helpers.js'

let sim: RunningSimulator | undefined

afterEach(async () => {
  await sim?.close()
  sim = undefined
})

async function frozen(opts: { liveSessions?: boolean; items?: number; seed?: number } = {}): Promise<RunningSimulator> {
  sim = await startSimulator({ port: 0, speed: 0, liveSessions: false, items: 400, ...opts })
  return sim
}

interface Frame {
  NotificationContainer: { type: string; size: number; [key: string]: unknown }
}

/** Collects WebSocket frames; `until` resolves when a predicate matches one. */
async function openSocket(
  s: RunningSimulator,
): Promise<{ frames: Frame[]; until: (pred: (f: Frame) => boolean) => Promise<Frame>; close: () => void }> {
  const ws = new WebSocket(`${s.url.replace('http', 'ws')}/:/websockets/notifications`, {
    headers: { 'X-Plex-Token': s.token },
  })
  const frames: Frame[] = []
  const waiters: { pred: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = []
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as Frame
    frames.push(frame)
    for (const w of [...waiters])
      if (w.pred(frame)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(frame)
      }
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  return {
    frames,
    until: (pred) => {
      const hit = frames.find(pred)
      if (hit) return Promise.resolve(hit)
      return new Promise((resolve) => waiters.push({ pred, resolve }))
    },
    close: () => ws.close(),
  }
}

function entries(frame: Frame, key: string): Record<string, unknown>[] {
  return frame.NotificationContainer[key] as Record<string, unknown>[]
}

describe('live state on an injected clock', () => {
  it('moves viewOffset only when the clock moves, by whole 10-second player reports', async () => {
    const s = await frozen()
    const started = s.control.startSession({ kind: 'movie', viewOffset: 60_000 })
    const before = await getJson(s, '/status/sessions')
    expect(before.MediaContainer.Metadata[0].viewOffset).toBe(60_000)
    s.control.advance(9)
    expect((await getJson(s, '/status/sessions')).MediaContainer.Metadata[0].viewOffset).toBe(60_000)
    s.control.advance(31)
    const after = await getJson(s, '/status/sessions')
    expect(after.MediaContainer.Metadata[0]).toMatchObject({ sessionKey: started.sessionKey, viewOffset: 100_000 })
  })

  it('lands a stopped session in history with the clock time as viewedAt', async () => {
    const s = await frozen()
    const before = await getJson(s, '/status/sessions/history/all?sort=viewedAt:desc', { start: 0, size: 1 })
    const session = s.control.startSession({ kind: 'episode', accountId: 1 })
    s.control.advance(120)
    expect(s.control.stopSession(session.sessionKey)).toBe(true)
    const sessions = await getJson(s, '/status/sessions')
    expect(sessions.MediaContainer).toEqual({ size: 0 })
    const after = await getJson(s, '/status/sessions/history/all?sort=viewedAt:desc', { start: 0, size: 1 })
    expect(after.MediaContainer.totalSize).toBe(before.MediaContainer.totalSize + 1)
    expect(after.MediaContainer.Metadata[0]).toMatchObject({
      ratingKey: session.ratingKey,
      accountID: 1,
      viewedAt: s.control.now(),
      type: 'episode',
    })
    const since = await getJson(s, `/status/sessions/history/all?viewedAt>=${s.control.now()}`)
    expect(since.MediaContainer.size).toBe(1)
  })

  it('ends a session by itself when it plays to the end', async () => {
    const s = await frozen()
    const session = s.control.startSession({ kind: 'track' })
    s.control.advance(Math.ceil(session.duration / 1000) + 10)
    expect(s.control.state().sessions).toHaveLength(0)
    expect(s.control.state().newestViewedAt).toBeGreaterThan(0)
  })

  it('pauses and resumes, reported in Player.state, and does not advance while paused', async () => {
    const s = await frozen()
    const session = s.control.startSession({ kind: 'movie' })
    s.control.pauseSession(session.sessionKey)
    s.control.advance(60)
    const paused = (await getJson(s, '/status/sessions')).MediaContainer.Metadata[0]
    expect(paused.Player.state).toBe('paused')
    expect(paused.viewOffset).toBe(0)
    s.control.resumeSession(session.sessionKey)
    s.control.advance(10)
    expect((await getJson(s, '/status/sessions')).MediaContainer.Metadata[0]).toMatchObject({
      viewOffset: 10_000,
      Player: { state: 'playing' },
    })
  })

  it('progresses an activity and ends it, and a finished scan adds media', async () => {
    const s = await frozen()
    const movies = s.control.state().library.sections.find((x) => x.id === 1)!.counts['1']!
    const a = s.control.startActivity({ type: 'library.update.section', librarySectionID: 1, ticks: 4, newItems: 2 })
    s.control.advance(20)
    const mid = (await getJson(s, '/activities')).MediaContainer.Activity[0]
    expect(mid).toMatchObject({ uuid: a.uuid, progress: 50 })
    s.control.advance(20)
    expect((await getJson(s, '/activities')).MediaContainer).toEqual({ size: 0 })
    const count = await getJson(s, '/library/sections/1/all?type=1', { start: 0, size: 0 })
    expect(count.MediaContainer.totalSize).toBe(movies + 2)
  })

  it("turns a deleted item's history rows into reduced rows", async () => {
    const s = await frozen()
    const session = s.control.startSession({ kind: 'movie' })
    s.control.stopSession(session.sessionKey)
    expect(s.control.deleteMedia(session.ratingKey!)).toBe(true)
    const row = (await getJson(s, '/status/sessions/history/all?sort=viewedAt:desc', { start: 0, size: 1 }))
      .MediaContainer.Metadata[0]
    expect(row.ratingKey).toBeUndefined()
    expect(row).toMatchObject({ title: session.title, type: 'movie', librarySectionID: '1' })
  })

  it('runs sessions, activities and history by itself when liveSessions is on', async () => {
    const s = await frozen({ liveSessions: true })
    const rows = s.control.state().historyRows
    expect(s.control.state().sessions.length).toBeGreaterThan(0)
    s.control.advance(6 * 3600)
    const state = s.control.state()
    expect(state.historyRows).toBeGreaterThan(rows)
    expect(state.newestViewedAt).toBeGreaterThan(s.control.now() - 6 * 3600)
  })

  it('replays the same live history for the same seed and advance() calls', async () => {
    const run = async (): Promise<unknown> => {
      const s = await startSimulator({ port: 0, speed: 0, items: 300, seed: 11 })
      s.control.advance(3 * 3600)
      const body = await getJson(s, '/status/sessions/history/all?sort=viewedAt:desc', { start: 0, size: 20 })
      const sessions = await getJson(s, '/status/sessions')
      await s.close()
      return [body, sessions]
    }
    expect(await run()).toEqual(await run())
  })
})

describe('notifications', () => {
  it('pushes playing, transcode and stopped frames over the WebSocket in step with the state', async () => {
    const s = await frozen()
    const socket = await openSocket(s)
    const session = s.control.startSession({ kind: 'movie', transcode: true })
    const playing = await socket.until((f) => f.NotificationContainer.type === 'playing')
    expect(playing.NotificationContainer.size).toBe(1)
    expect(entries(playing, 'PlaySessionStateNotification')[0]).toMatchObject({
      sessionKey: session.sessionKey,
      ratingKey: session.ratingKey,
      state: 'playing',
      viewOffset: 0,
    })
    await socket.until((f) => f.NotificationContainer.type === 'transcodeSession.start')
    s.control.advance(10)
    const report = await socket.until(
      (f) =>
        f.NotificationContainer.type === 'playing' &&
        entries(f, 'PlaySessionStateNotification')[0]!.viewOffset === 10_000,
    )
    expect(report).toBeDefined()
    s.control.stopSession(session.sessionKey)
    await socket.until(
      (f) =>
        f.NotificationContainer.type === 'playing' &&
        entries(f, 'PlaySessionStateNotification')[0]!.state === 'stopped',
    )
    await socket.until((f) => f.NotificationContainer.type === 'transcodeSession.end')
    socket.close()
  })

  it('pushes activity started/updated/ended, timeline 5 for new media and 9 for deleted', async () => {
    const s = await frozen()
    const socket = await openSocket(s)
    const a = s.control.startActivity({ type: 'media.generate.bif', ticks: 2 })
    s.control.advance(20)
    await socket.until(
      (f) => f.NotificationContainer.type === 'activity' && entries(f, 'ActivityNotification')[0]!.event === 'ended',
    )
    const events = socket.frames
      .filter((f) => f.NotificationContainer.type === 'activity')
      .map((f) => entries(f, 'ActivityNotification')[0]!)
    expect(events.map((e) => e.event)).toEqual(['started', 'updated', 'ended'])
    expect(events[0]).toMatchObject({ uuid: a.uuid, Activity: { uuid: a.uuid, type: 'media.generate.bif' } })
    const media = s.control.addMedia({ type: 'movie' })
    const done = await socket.until(
      (f) => f.NotificationContainer.type === 'timeline' && entries(f, 'TimelineEntry')[0]!.state === 5,
    )
    expect(entries(done, 'TimelineEntry')[0]).toMatchObject({ itemID: media.ratingKey, sectionID: '1', type: 1 })
    s.control.deleteMedia(media.ratingKey)
    await socket.until(
      (f) => f.NotificationContainer.type === 'timeline' && entries(f, 'TimelineEntry')[0]!.state === 9,
    )
    socket.close()
  })

  it('streams the same events over SSE as `event:` lines, with a ping every 10 s of clock', async () => {
    const s = await frozen()
    const ac = new AbortController()
    const res = await fetch(`${s.url}/:/eventsource/notifications?X-Plex-Token=${s.token}`, { signal: ac.signal })
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const reader = res.body!.getReader()
    let text = ''
    const readUntil = async (needle: string): Promise<void> => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`stream ended before ${needle}`)
        text += Buffer.from(value).toString()
      }
    }
    const session = s.control.startSession({ kind: 'episode' })
    await readUntil('event: playing\n')
    const data = text.split('event: playing\ndata: ')[1]!.split('\n')[0]!
    expect(JSON.parse(data)).toMatchObject({
      PlaySessionStateNotification: { sessionKey: session.sessionKey, state: 'playing' },
    })
    s.control.advance(10)
    await readUntil('event: ping\ndata: {}\n\n')
    ac.abort()
  })

  it('refuses a WebSocket without a token and drops connected clients on request', async () => {
    const s = await frozen()
    const refused = new WebSocket(`${s.url.replace('http', 'ws')}/:/websockets/notifications`)
    const status = await new Promise<number>((resolve) =>
      refused.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    )
    expect(status).toBe(401)
    const ws = new WebSocket(`${s.url.replace('http', 'ws')}/:/websocket/notifications?X-Plex-Token=${s.token}`)
    await new Promise((resolve) => ws.once('open', resolve))
    expect(s.control.state().notificationClients.websocket).toBe(1)
    const closed = new Promise((resolve) => ws.once('close', resolve))
    expect(s.control.dropNotificationClients()).toBe(1)
    await closed
    expect(s.control.requestCounts()['/:/websockets/notifications']).toBe(2)
  })
})

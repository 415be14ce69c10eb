// The client and the notification listener against the project's Plex simulator (sim/): every
// endpoint, the odd session kinds, deleted history rows, every fault, deep history paging and a
// notification reconnect across a simulator restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../sim/index.js'
import {
  PlexAuthError,
  PlexError,
  PlexHttpError,
  PlexTimeoutError,
  PlexTypeId,
  PlexUnreachableError,
  createNotificationListener,
  createPlexClient,
  type HistoryRow,
  type NotificationEvents,
  type NotificationListener,
  type PlexClient,
} from '../../src/plex/index.js'

const TOKEN = 'sim-secret-token-81f2'

function clientFor(sim: RunningSimulator, timeoutMs = 5_000): PlexClient {
  return createPlexClient({ baseUrl: sim.url, token: TOKEN, plexTvUrl: sim.url, timeoutMs })
}

async function collectHistory(
  client: PlexClient,
  query: Parameters<PlexClient['history']>[0] = {},
): Promise<HistoryRow[]> {
  const rows: HistoryRow[] = []
  for await (const page of client.history(query)) rows.push(...page.rows)
  return rows
}

function next<K extends keyof NotificationEvents>(
  listener: NotificationListener,
  event: K,
  match: (arg: NotificationEvents[K][0]) => boolean = () => true,
  timeoutMs = 8_000,
): Promise<NotificationEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      listener.off(event, handler as never)
      reject(new Error(`no matching ${String(event)} event within ${timeoutMs} ms`))
    }, timeoutMs)
    const handler = (arg: NotificationEvents[K][0]) => {
      if (!match(arg)) return
      clearTimeout(timer)
      listener.off(event, handler as never)
      resolve(arg)
    }
    listener.on(event, handler as never)
  })
}

function errorText(err: unknown): string {
  const e = err as Error
  return [String(e), e.stack, JSON.stringify(e), String(e.cause), (e.cause as Error | undefined)?.stack].join('\n')
}

describe('Plex client against the simulator', () => {
  let sim: RunningSimulator
  let plex: PlexClient

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, token: TOKEN, seed: 1, items: 300, speed: 0 })
    plex = clientFor(sim)
  })
  afterAll(async () => {
    await sim?.close()
  })

  it('reads server info and identity (identity without a token)', async () => {
    const info = await plex.serverInfo()
    expect(info).toMatchObject({
      friendlyName: 'Komandorr Sim',
      machineIdentifier: sim.machineIdentifier,
      platform: 'Linux',
    })
    const anonymous = createPlexClient({ baseUrl: sim.url, token: 'nope-nope' })
    expect(await anonymous.identity()).toEqual({
      machineIdentifier: sim.machineIdentifier,
      version: info.version,
      claimed: true,
    })
  })

  it('reads accounts: system account 0, owner 1 and shared users', async () => {
    const accounts = await plex.accounts()
    expect(accounts.map((a) => ({ id: a.id, name: a.name }))).toEqual(sim.control.state().accounts)
    expect(accounts.slice(0, 2).map((a) => a.id)).toEqual([0, 1])
  })

  it('reads library sections and counts every type of every section with Size 0 requests', async () => {
    const sections = await plex.librarySections()
    const expected = sim.control.state().library.sections
    expect(sections.map((s) => [s.id, s.title, s.type])).toEqual(expected.map((s) => [s.id, s.title, s.type]))
    sim.control.resetCounts()
    let requests = 0
    for (const s of expected) {
      for (const [typeId, count] of Object.entries(s.counts)) {
        expect(await plex.sectionTotal(s.id, Number(typeId))).toBe(count)
        requests++
      }
    }
    expect(sim.control.requestCounts()['/library/sections/:id/all']).toBe(requests)
  })

  it('lists a section page by page, one request per page', async () => {
    const episodes = sim.control.state().library.sections.find((s) => s.id === 2)!.counts[String(PlexTypeId.episode)]!
    sim.control.resetCounts()
    const items = []
    for await (const page of plex.sectionItems(2, { type: PlexTypeId.episode, pageSize: 50 })) items.push(...page.items)
    expect(items).toHaveLength(episodes)
    expect(new Set(items.map((i) => i.ratingKey)).size).toBe(episodes)
    expect(items.every((i) => i.type === 'episode' && i.librarySectionID === 2 && i.grandparentTitle)).toBe(true)
    expect(sim.control.requestCounts()['/library/sections/:id/all']).toBe(Math.ceil(episodes / 50))
  })

  it('shows new media first in recently added, globally and per section', async () => {
    const added = sim.control.addMedia({ type: 'movie', librarySectionID: 1, title: 'Freshly Added Movie' })
    const [newest] = await plex.recentlyAdded({ size: 5 })
    expect(newest).toMatchObject({
      ratingKey: added.ratingKey,
      title: 'Freshly Added Movie',
      addedAt: added.addedAt,
      type: 'movie',
    })
    const section = await plex.sectionRecentlyAdded(1, { size: 3 })
    expect(section).toHaveLength(3)
    expect(section[0]).toMatchObject({ ratingKey: added.ratingKey, librarySectionID: 1 })
    expect(await plex.sectionRecentlyAdded(1, { size: 0 })).toEqual([])
  })

  describe('sessions', () => {
    it('reads an empty session list as []', async () => {
      for (const s of sim.control.state().sessions) sim.control.stopSession(s.sessionKey)
      expect(await plex.sessions()).toEqual([])
    })

    it('reads a transcoding movie with two Media, exactly one selected', async () => {
      const info = sim.control.startSession({
        kind: 'movie',
        transcode: true,
        multipleMedia: true,
        paused: true,
        viewOffset: 120_000,
        location: 'wan',
      })
      const s = (await plex.sessions()).find((x) => x.sessionKey === info.sessionKey)!
      expect(s).toMatchObject({
        ratingKey: info.ratingKey,
        title: info.title,
        type: 'movie',
        viewOffset: 120_000,
        duration: info.duration,
        librarySectionID: info.librarySectionID,
        live: false,
      })
      expect(s.user).toMatchObject({ id: info.accountId, title: info.userName })
      expect(s.player).toMatchObject({ state: 'paused', title: info.player })
      expect(s.session).toMatchObject({ location: 'wan' })
      expect(s.session!.bandwidth).toBeGreaterThan(0)
      expect(s.transcodeSession).toMatchObject({ videoDecision: expect.stringMatching(/^(transcode|copy)$/) })
      expect(s.media).toHaveLength(2)
      expect(s.media.filter((m) => m.selected)).toHaveLength(1)
      expect(s.selectedMedia).toBe(s.media.find((m) => m.selected))
      expect(s.selectedMedia!.parts.length).toBeGreaterThan(0)
    })

    it('reads direct-play episode, music and photo sessions without a TranscodeSession', async () => {
      const started = (['episode', 'track', 'photo'] as const).map((kind) =>
        sim.control.startSession({ kind, transcode: false }),
      )
      const sessions = await plex.sessions()
      for (const info of started) {
        const s = sessions.find((x) => x.sessionKey === info.sessionKey)!
        expect(s).toMatchObject({
          ratingKey: info.ratingKey,
          title: info.title,
          librarySectionID: info.librarySectionID,
          transcodeSession: undefined,
        })
        expect(s.selectedMedia).toBeDefined()
      }
      const [episode, track, photo] = started.map((info) => sessions.find((x) => x.sessionKey === info.sessionKey)!)
      expect(episode).toMatchObject({
        type: 'episode',
        grandparentTitle: expect.any(String),
        parentIndex: expect.any(Number),
        index: expect.any(Number),
      })
      expect(track).toMatchObject({ type: 'track', librarySectionID: 3, parentTitle: expect.any(String) })
      expect(photo).toMatchObject({ type: 'photo', librarySectionID: 4 })
    })

    it('reads live TV (no ratingKey), preroll (-2) and unknown (-3) sessions', async () => {
      const [live, preroll, unknown] = (['livetv', 'preroll', 'unknown'] as const).map((kind) =>
        sim.control.startSession({ kind }),
      )
      const sessions = await plex.sessions()
      const byKey = (k: string) => sessions.find((x) => x.sessionKey === k)!
      expect(byKey(live!.sessionKey)).toMatchObject({
        live: true,
        ratingKey: undefined,
        librarySectionID: undefined,
        title: live!.title,
      })
      expect(byKey(preroll!.sessionKey)).toMatchObject({ type: 'clip', librarySectionID: -2, title: 'fancy_preroll' })
      expect(byKey(unknown!.sessionKey)).toMatchObject({
        type: 'clip',
        librarySectionID: -3,
        title: 'some_unknown_item',
      })
    })
  })

  it('reads activities with their section, unknown progress included', async () => {
    const a = sim.control.startActivity({ type: 'library.update.section', librarySectionID: 1, progress: -1 })
    const activities = await plex.activities()
    expect(activities.find((x) => x.uuid === a.uuid)).toEqual(
      expect.objectContaining({
        uuid: a.uuid,
        type: 'library.update.section',
        title: a.title,
        subtitle: a.subtitle,
        progress: -1,
        librarySectionID: 1,
      }),
    )
  })

  it('reads history newest first, filtered by since, account and section', async () => {
    const all = await collectHistory(plex, { pageSize: 200 })
    expect(all).toHaveLength(sim.control.state().historyRows)
    expect(all.every((r, i) => i === 0 || all[i - 1]!.viewedAt >= r.viewedAt)).toBe(true)
    const since = all[Math.floor(all.length / 3)]!.viewedAt
    const recent = await collectHistory(plex, { since, pageSize: 50 })
    expect(recent.map((r) => r.historyKey)).toEqual(all.filter((r) => r.viewedAt >= since).map((r) => r.historyKey))
    const owner = await collectHistory(plex, { accountId: 1, sectionId: 2 })
    expect(owner.length).toBeGreaterThan(0)
    expect(owner.map((r) => r.historyKey)).toEqual(
      all.filter((r) => r.accountID === 1 && r.librarySectionID === 2).map((r) => r.historyKey),
    )
  })

  it('reads history rows of deleted items as reduced rows marked deleted', async () => {
    const before = await collectHistory(plex)
    const watched = before.find((r) => r.type === 'movie' && r.ratingKey)!
    expect(sim.control.deleteMedia(watched.ratingKey!)).toBe(true)
    const after = await collectHistory(plex)
    const row = after.find((r) => r.historyKey === watched.historyKey)!
    expect(row).toMatchObject({
      deleted: true,
      ratingKey: undefined,
      title: watched.title,
      type: 'movie',
      viewedAt: watched.viewedAt,
      accountID: watched.accountID,
      librarySectionID: watched.librarySectionID,
    })
    expect(row.thumb).toBeUndefined()
  })

  it('fetches metadata for many ratingKeys in batches, never one request per row', async () => {
    const movies = []
    for await (const page of plex.sectionItems(1, { type: PlexTypeId.movie })) movies.push(...page.items)
    const keys = movies.map((m) => m.ratingKey!).slice(0, 55)
    sim.control.resetCounts()
    const items = await plex.metadata(keys)
    expect(items.map((i) => i.ratingKey).sort()).toEqual([...keys].sort())
    expect(sim.control.requestCounts()['/library/metadata/:ids']).toBe(2)
    const first = items.find((i) => i.ratingKey === keys[0])!
    expect(first).toMatchObject({ title: movies[0]!.title, type: 'movie' })
    expect(first.duration).toBeGreaterThan(0)
    expect(first.genres.length).toBeGreaterThan(0)
  })

  it('reads the plex.tv shared servers of this machine', async () => {
    const shared = await plex.sharedServers(sim.machineIdentifier)
    const state = sim.control.state()
    expect(shared).toHaveLength(state.sharedUsers)
    const names = new Map(state.accounts.map((a) => [a.id, a.name]))
    for (const s of shared) expect(s.username).toBe(names.get(s.userID))
    expect(shared[0]!.sections.length).toBeGreaterThan(0)
    expect(JSON.stringify(shared)).not.toMatch(/accessToken/i)
  })

  it('fetches an item thumb as image bytes through the token-adding image fetch', async () => {
    const [item] = await plex.recentlyAdded({ size: 1 })
    const img = await plex.fetchImage(item!.thumb!)
    expect(img.status).toBe(200)
    expect(img.contentType).toMatch(/^image\//)
    expect(img.body.length).toBeGreaterThan(0)
  })
})

describe('Plex client under simulator faults', () => {
  let sim: RunningSimulator
  const errors: unknown[] = []

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, token: TOKEN, seed: 2, items: 100, speed: 0 })
  })
  afterAll(async () => {
    await sim?.close()
  })

  async function failure(run: (c: PlexClient) => Promise<unknown>, timeoutMs = 5_000): Promise<unknown> {
    const err = await run(clientFor(sim, timeoutMs)).then(
      () => new Error('expected a failure'),
      (e: unknown) => e,
    )
    errors.push(err)
    return err
  }

  it('401 → PlexAuthError', async () => {
    await sim.control.setFault({ endpoint: '/status/sessions', status: 401 })
    const err = await failure((c) => c.sessions())
    await sim.control.clearFaults()
    expect(err).toBeInstanceOf(PlexAuthError)
    expect((err as Error).message).toMatch(/^Plex answered 401: the token is not accepted/)
  })

  it('500 and 503 → PlexHttpError with the status', async () => {
    await sim.control.setFault({ endpoint: '/activities', status: 500 })
    await sim.control.setFault({ endpoint: '/library/sections', status: 503 })
    const e500 = await failure((c) => c.activities())
    const e503 = await failure((c) => c.librarySections())
    await sim.control.clearFaults()
    expect(e500).toBeInstanceOf(PlexHttpError)
    expect(e500).toMatchObject({ status: 500, endpoint: '/activities' })
    expect(e503).toMatchObject({ kind: 'http', status: 503 })
  })

  it('hang → PlexTimeoutError after the configured deadline', async () => {
    await sim.control.setFault({ endpoint: '/status/sessions/history/all', mode: 'hang' })
    const err = await failure((c) => c.history().next(), 300)
    await sim.control.clearFaults()
    expect(err).toBeInstanceOf(PlexTimeoutError)
    expect((err as Error).message).toBe('Plex /status/sessions/history/all did not answer within 300 ms')
  })

  it('drop → PlexUnreachableError', async () => {
    await sim.control.setFault({ endpoint: '/accounts', mode: 'drop' })
    const err = await failure((c) => c.accounts())
    await sim.control.clearFaults()
    expect(err).toBeInstanceOf(PlexUnreachableError)
  })

  it('outage → PlexUnreachableError naming host:port, and recovery once cleared', async () => {
    await sim.control.setFault({ mode: 'outage' })
    const err = await failure((c) => c.serverInfo())
    await sim.control.clearFaults()
    expect(err).toBeInstanceOf(PlexUnreachableError)
    expect(err).toMatchObject({ address: `127.0.0.1:${sim.port}`, code: 'ECONNREFUSED' })
    expect((await clientFor(sim).serverInfo()).machineIdentifier).toBe(sim.machineIdentifier)
  })

  it('a wrong token → PlexAuthError from the real 401 HTML page', async () => {
    const err = await createPlexClient({ baseUrl: sim.url, token: 'wrong-token-abcdef' })
      .sessions()
      .catch((e: unknown) => e)
    errors.push(err)
    expect(err).toBeInstanceOf(PlexAuthError)
  })

  it('no error carries the token in its message, stack or cause', () => {
    expect(errors.length).toBeGreaterThanOrEqual(7)
    for (const err of errors) {
      expect(err).toBeInstanceOf(PlexError)
      expect(errorText(err)).not.toContain(TOKEN)
      expect(errorText(err)).not.toContain('wrong-token-abcdef')
    }
  })
})

describe('deep history paging', () => {
  it('pages through 12,000 rows in 12 requests of 1,000, once each', async () => {
    const sim = await startSimulator({
      port: 0,
      token: TOKEN,
      seed: 3,
      items: 200,
      historyRows: 12_000,
      speed: 0,
      liveSessions: false,
    })
    try {
      const plex = clientFor(sim)
      sim.control.resetCounts()
      const pages = []
      for await (const page of plex.history({ pageSize: 1_000 })) pages.push(page)
      expect(pages.map((p) => p.offset)).toEqual(Array.from({ length: 12 }, (_, i) => i * 1_000))
      expect(pages.every((p) => p.totalSize === 12_000 && p.rows.length === 1_000)).toBe(true)
      const keys = new Set(pages.flatMap((p) => p.rows.map((r) => r.historyKey)))
      expect(keys.size).toBe(12_000)
      expect(sim.control.requestCounts()['/status/sessions/history/all']).toBe(12)

      // Incremental sync: only what is at or after the newest stored viewedAt.
      const newest = pages[0]!.rows[0]!.viewedAt
      sim.control.resetCounts()
      const since = []
      for await (const page of plex.history({ since: newest, pageSize: 1_000 })) since.push(...page.rows)
      expect(since.length).toBeGreaterThanOrEqual(1)
      expect(since.every((r) => r.viewedAt >= newest)).toBe(true)
      expect(sim.control.requestCounts()['/status/sessions/history/all']).toBe(1)
    } finally {
      await sim.close()
    }
  })
})

describe('notifications from the simulator', () => {
  it('delivers playing, activity and timeline events over the WebSocket', async () => {
    const sim = await startSimulator({ port: 0, token: TOKEN, seed: 4, items: 100, speed: 0, liveSessions: false })
    const listener = createNotificationListener({
      baseUrl: sim.url,
      token: TOKEN,
      backoff: { initialMs: 50, maxMs: 200 },
    })
    try {
      expect(await next(listener, 'connected')).toEqual({ transport: 'websocket' })
      const playing = next(listener, 'playing')
      const session = sim.control.startSession({ kind: 'movie', transcode: false })
      expect((await playing)[0]).toMatchObject({
        sessionKey: session.sessionKey,
        ratingKey: session.ratingKey,
        state: 'playing',
      })
      const activity = next(listener, 'activity')
      const started = sim.control.startActivity({ type: 'library.refresh.items', librarySectionID: 1 })
      expect((await activity)[0]).toMatchObject({
        event: 'started',
        uuid: started.uuid,
        activity: { librarySectionID: 1 },
      })
      const timeline = next(listener, 'timeline', (entries) => entries.some((e) => e.state === 5))
      const media = sim.control.addMedia({ type: 'movie', librarySectionID: 1 })
      expect((await timeline).find((e) => e.state === 5)).toMatchObject({ itemID: media.ratingKey, sectionID: 1 })
    } finally {
      await listener.close()
      await sim.close()
    }
  })

  it('uses the SSE stream when asked to', async () => {
    const sim = await startSimulator({ port: 0, token: TOKEN, seed: 4, items: 100, speed: 0, liveSessions: false })
    const listener = createNotificationListener({ baseUrl: sim.url, token: TOKEN, transport: 'sse' })
    try {
      expect(await next(listener, 'connected')).toEqual({ transport: 'sse' })
      const playing = next(listener, 'playing')
      const session = sim.control.startSession({ kind: 'episode' })
      expect((await playing)[0]).toMatchObject({ sessionKey: session.sessionKey, state: 'playing' })
    } finally {
      await listener.close()
      await sim.close()
    }
  })

  it('says reconnected after the simulator drops clients and after it restarts on the same port', async () => {
    let sim = await startSimulator({ port: 0, token: TOKEN, seed: 5, items: 100, speed: 0, liveSessions: false })
    const port = sim.port
    const listener = createNotificationListener({
      baseUrl: sim.url,
      token: TOKEN,
      backoff: { initialMs: 50, maxMs: 200 },
    })
    try {
      await next(listener, 'connected')
      const dropped = next(listener, 'reconnected')
      expect(sim.control.dropNotificationClients()).toBe(1)
      expect((await dropped).transport).toBe('websocket')

      const disconnected = next(listener, 'disconnected')
      await sim.close()
      await disconnected
      sim = await startSimulator({ port, token: TOKEN, seed: 5, items: 100, speed: 0, liveSessions: false })
      const reconnected = await next(listener, 'reconnected')
      expect(reconnected.transport).toBe('websocket')
      expect(reconnected.downtimeMs).toBeGreaterThanOrEqual(0)
      const playing = next(listener, 'playing')
      const session = sim.control.startSession({ kind: 'movie' })
      expect((await playing)[0]!.sessionKey).toBe(session.sessionKey)
    } finally {
      await listener.close()
      await sim.close()
    }
  })
})

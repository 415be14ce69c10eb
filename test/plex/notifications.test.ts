// The notification listener against real WebSocket and SSE servers written in the test: typed
// events, SSE fallback, reconnect with backoff, and `reconnected` after a gap.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocketServer, type WebSocket } from 'ws'
import {
  backoffDelay,
  createNotificationListener,
  MAX_NOTIFICATION_BYTES,
  type NotificationEvents,
  type NotificationListener,
} from '../../src/plex/index.js'
import { sleep } from '../support/eventually.js'

const TOKEN = 'notify-token-Kx93'

interface PushServer {
  url: string
  port: number
  sockets: Set<WebSocket>
  streams: Set<http.ServerResponse>
  upgrades: http.IncomingMessage[]
  sseRequests: http.IncomingMessage[]
  send(frame: unknown): void
  sse(event: string, data: unknown): void
  dropAll(): void
  close(): Promise<void>
}

/** `websocket: false` answers upgrades with 404, as a proxy without WebSocket support would. */
async function startPushServer(
  opts: { websocket?: boolean; upgradeStatus?: () => number | undefined; port?: number } = {},
): Promise<PushServer> {
  const sockets = new Set<WebSocket>()
  const streams = new Set<http.ServerResponse>()
  const upgrades: http.IncomingMessage[] = []
  const sseRequests: http.IncomingMessage[] = []
  const wss = new WebSocketServer({ noServer: true })
  const server = http.createServer((req, res) => {
    if (req.url === '/:/eventsource/notifications') {
      sseRequests.push(req)
      res.writeHead(200, { 'Content-Type': 'text/event-stream' })
      res.flushHeaders()
      streams.add(res)
      res.on('close', () => streams.delete(res))
      return
    }
    res.writeHead(404)
    res.end()
  })
  server.on('upgrade', (req, socket, head) => {
    upgrades.push(req)
    const status = opts.websocket === false ? 404 : opts.upgradeStatus?.()
    if (status || req.url !== '/:/websockets/notifications') {
      socket.end(`HTTP/1.1 ${status ?? 404} Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws)
      ws.on('close', () => sockets.delete(ws))
    })
  })
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const dropAll = () => {
    for (const ws of sockets) ws.terminate()
    for (const res of streams) res.destroy()
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    sockets,
    streams,
    upgrades,
    sseRequests,
    send: (frame) => {
      for (const ws of sockets) ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
    },
    sse: (event, data) => {
      for (const res of streams)
        res.write(`event: ${event}\r\ndata: ${typeof data === 'string' ? data : JSON.stringify(data)}\r\n\r\n`)
    },
    dropAll,
    close: () =>
      new Promise<void>((resolve) => {
        dropAll()
        wss.close()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Resolves with the next emission of `event`. */
function next<K extends keyof NotificationEvents>(
  listener: NotificationListener,
  event: K,
  timeoutMs = 5_000,
): Promise<NotificationEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${String(event)} event within ${timeoutMs} ms`)), timeoutMs)
    listener.once(
      event as 'connected',
      ((arg: NotificationEvents[K][0]) => {
        clearTimeout(timer)
        resolve(arg)
      }) as never,
    )
  })
}

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

function listen(
  server: PushServer,
  extra: Partial<Parameters<typeof createNotificationListener>[0]> = {},
): NotificationListener {
  const listener = createNotificationListener({
    baseUrl: server.url,
    token: TOKEN,
    backoff: { initialMs: 20, maxMs: 100 },
    ...extra,
  })
  cleanup.push(() => listener.close())
  return listener
}

async function push(opts?: Parameters<typeof startPushServer>[0]): Promise<PushServer> {
  const s = await startPushServer(opts)
  cleanup.push(() => s.close())
  return s
}

describe('backoff', () => {
  it('grows exponentially from initialMs, is capped at maxMs, and jitter only shortens it', () => {
    const opts = { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0.5 }
    expect([1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, opts, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000])
    expect(backoffDelay(3, opts, () => 1)).toBe(200)
    expect(backoffDelay(3, opts, () => 0.5)).toBe(300)
    expect(backoffDelay(1, {}, () => 0)).toBe(1_000)
    expect(backoffDelay(20, {}, () => 0)).toBe(30_000)
  })
})

describe('notification listener', () => {
  it('connects over WebSocket with the token header and emits typed events for each notification type', async () => {
    const s = await push()
    const listener = listen(s)
    expect(await next(listener, 'connected')).toEqual({ transport: 'websocket' })
    expect(s.upgrades[0]!.headers['x-plex-token']).toBe(TOKEN)
    expect(s.upgrades[0]!.url).toBe('/:/websockets/notifications')

    const playing = next(listener, 'playing')
    s.send({
      NotificationContainer: {
        type: 'playing',
        size: 1,
        PlaySessionStateNotification: [
          {
            sessionKey: '12',
            ratingKey: 345,
            key: '/library/metadata/345',
            viewOffset: '61000',
            state: 'paused',
            clientIdentifier: 'c1',
          },
        ],
      },
    })
    expect(await playing).toEqual([
      {
        sessionKey: '12',
        ratingKey: '345',
        key: '/library/metadata/345',
        viewOffset: 61000,
        state: 'paused',
        clientIdentifier: 'c1',
        transcodeSession: undefined,
      },
    ])

    const activity = next(listener, 'activity')
    s.send({
      NotificationContainer: {
        type: 'activity',
        size: 1,
        ActivityNotification: [
          {
            event: 'updated',
            uuid: 'a-1',
            Activity: {
              uuid: 'a-1',
              type: 'library.update.section',
              cancellable: false,
              userID: 1,
              title: 'Scanning',
              progress: 40,
              Context: { librarySectionID: '3' },
            },
          },
        ],
      },
    })
    expect(await activity).toEqual([
      {
        event: 'updated',
        uuid: 'a-1',
        activity: {
          uuid: 'a-1',
          type: 'library.update.section',
          title: 'Scanning',
          subtitle: undefined,
          cancellable: false,
          userID: 1,
          progress: 40,
          librarySectionID: 3,
        },
      },
    ])

    const timeline = next(listener, 'timeline')
    s.send({
      NotificationContainer: {
        type: 'timeline',
        size: 2,
        TimelineEntry: [
          { sectionID: '2', itemID: '900', type: 4, title: 'Pilot', state: 5, updatedAt: 1700000000 },
          { itemID: 901, state: '9', type: 1 },
        ],
      },
    })
    const entries = await timeline
    expect(entries.map((e) => [e.sectionID, e.itemID, e.type, e.state])).toEqual([
      [2, '900', 4, 5],
      [undefined, '901', 1, 9],
    ])

    const status = next(listener, 'status')
    s.send({
      NotificationContainer: {
        type: 'status',
        size: 1,
        StatusNotification: [{ title: 'Library scan complete', notificationName: 'LIBRARY_UPDATE' }],
      },
    })
    expect(await status).toEqual([
      { title: 'Library scan complete', description: undefined, notificationName: 'LIBRARY_UPDATE' },
    ])

    const transcode = next(listener, 'transcodeSession')
    s.send({
      NotificationContainer: {
        type: 'transcodeSession.update',
        size: 1,
        TranscodeSession: [{ key: 'tk1', progress: 12.5, speed: '2.0', throttled: false, videoDecision: 'transcode' }],
      },
    })
    expect(await transcode).toEqual({
      event: 'update',
      sessions: [
        expect.objectContaining({ key: 'tk1', progress: 12.5, speed: 2, throttled: false, videoDecision: 'transcode' }),
      ],
    })
  })

  it('drops a malformed frame and keeps delivering the next ones', async () => {
    const warnings: string[] = []
    const s = await push()
    const listener = listen(s, { logger: { debug() {}, info() {}, warn: (obj) => warnings.push(JSON.stringify(obj)) } })
    await next(listener, 'connected')
    const playing = next(listener, 'playing')
    s.send('not json at all')
    s.send({
      NotificationContainer: {
        type: 'playing',
        PlaySessionStateNotification: [{ sessionKey: '1', viewOffset: 'soon', state: 'playing' }],
      },
    })
    s.send({ NotificationContainer: { type: 'reachability', size: 1 } })
    s.send({
      NotificationContainer: { type: 'playing', PlaySessionStateNotification: [{ sessionKey: '2', state: 'stopped' }] },
    })
    expect((await playing).map((p) => p.sessionKey)).toEqual(['2'])
    expect(
      warnings.some((w) => w.includes('PlaySessionStateNotification[0].viewOffset is \\"soon\\", not a number')),
    ).toBe(true)
  })

  it('falls back to SSE when the WebSocket is refused, and reads SSE events and pings', async () => {
    const s = await push({ websocket: false })
    const listener = listen(s)
    expect(await next(listener, 'connected')).toEqual({ transport: 'sse' })
    expect(listener.transport).toBe('sse')
    expect(s.sseRequests[0]!.headers['x-plex-token']).toBe(TOKEN)
    const playing = next(listener, 'playing')
    s.sse('ping', {})
    s.sse('playing', {
      PlaySessionStateNotification: { sessionKey: '5', ratingKey: '77', viewOffset: 1000, state: 'playing' },
    })
    expect(await playing).toEqual([
      expect.objectContaining({ sessionKey: '5', ratingKey: '77', viewOffset: 1000, state: 'playing' }),
    ])
    const timeline = next(listener, 'timeline')
    s.sse('timeline', { TimelineEntry: { sectionID: 1, itemID: '3', type: 1, state: 5 } })
    expect((await timeline)[0]).toMatchObject({ sectionID: 1, itemID: '3', state: 5 })
  })

  it('emits disconnected, then reconnected with the measured gap, when the server drops the connection', async () => {
    let now = 1_000
    const s = await push()
    const listener = listen(s, { now: () => now })
    await next(listener, 'connected')
    const disconnected = next(listener, 'disconnected')
    const reconnected = next(listener, 'reconnected')
    s.dropAll()
    expect(await disconnected).toMatchObject({ transport: 'websocket' })
    now += 4_000
    expect(await reconnected).toEqual({ transport: 'websocket', downtimeMs: 4_000 })
    expect(listener.isConnected).toBe(true)
  })

  it('retries a refusing server with growing, capped delays, then connects', async () => {
    let refusals = 4
    const s = await push({ upgradeStatus: () => (refusals-- > 0 ? 503 : undefined) })
    // SSE is disabled so every attempt is one WebSocket upgrade.
    const listener = listen(s, {
      transport: 'websocket',
      backoff: { initialMs: 10, maxMs: 40, jitter: 0.5 },
      random: () => 0,
    })
    const retries: NotificationEvents['retrying'][0][] = []
    listener.on('retrying', (r) => retries.push(r))
    const connected = next(listener, 'connected')
    expect(await connected).toEqual({ transport: 'websocket' })
    expect(retries.map((r) => [r.attempt, r.delayMs])).toEqual([
      [1, 10],
      [2, 20],
      [3, 40],
      [4, 40],
    ])
    expect(retries[0]!.reason).toContain('WebSocket answered 503')
    expect(s.upgrades).toHaveLength(5)
  })

  it('stops for good on close(): no reconnect, no further events', async () => {
    const s = await push()
    const listener = listen(s)
    await next(listener, 'connected')
    const events: string[] = []
    for (const e of ['connected', 'disconnected', 'reconnected', 'retrying', 'playing'] as const)
      listener.on(e, () => events.push(e))
    await listener.close()
    expect(listener.isConnected).toBe(false)
    s.send({
      NotificationContainer: { type: 'playing', PlaySessionStateNotification: [{ sessionKey: '1', state: 'playing' }] },
    })
    await sleep(150)
    expect(events).toEqual([])
    expect(s.upgrades).toHaveLength(1)
    expect(s.sockets.size).toBe(0)
  })

  it('reconnects an SSE stream that goes silent for longer than the heartbeat', async () => {
    const s = await push({ websocket: false })
    const listener = listen(s, { heartbeatMs: 150 })
    await next(listener, 'connected')
    const disconnected = next(listener, 'disconnected')
    const reconnected = next(listener, 'reconnected')
    expect(await disconnected).toEqual({ transport: 'sse', reason: 'no data within the heartbeat' })
    expect((await reconnected).transport).toBe('sse')
    expect(s.sseRequests.length).toBeGreaterThanOrEqual(2)
  })

  it('drops a connection whose WebSocket message or SSE event passes the notification cap, and reconnects', async () => {
    const ws = await push()
    const overWs = listen(ws)
    await next(overWs, 'connected')
    const lostWs = next(overWs, 'disconnected')
    ws.send('x'.repeat(MAX_NOTIFICATION_BYTES + 1))
    expect((await lostWs).transport).toBe('websocket')
    expect((await next(overWs, 'reconnected')).transport).toBe('websocket')

    const sse = await push({ websocket: false })
    const overSse = listen(sse)
    await next(overSse, 'connected')
    const lostSse = next(overSse, 'disconnected')
    const chunk = 'y'.repeat(256 * 1024)
    for (const res of sse.streams) {
      res.write('event: playing\ndata: ')
      for (let i = 0; i <= MAX_NOTIFICATION_BYTES / chunk.length; i++) res.write(chunk)
    }
    expect(await lostSse).toEqual({
      transport: 'sse',
      reason: `an event passed ${MAX_NOTIFICATION_BYTES} bytes without ending`,
    })
  })
})

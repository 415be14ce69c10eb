// Listens to PMS push notifications: the WebSocket `/:/websockets/notifications`, or the SSE stream
// `/:/eventsource/notifications` when the WebSocket cannot be opened. Reconnects with capped,
// jittered exponential backoff, and says `reconnected` after a gap so caches can reload everything
// once (session keys may have reset while it was away).
import { EventEmitter } from 'node:events'
import WebSocket from 'ws'
import { backoffDelay, type BackoffOptions } from './backoff.js'
import { VERSION } from '../version.js'
import { redactToken } from './errors.js'
import {
  parseNotification,
  type ActivityNotification,
  type PlayingNotification,
  type StatusNotification,
  type TimelineEntry,
  type TranscodeSessionNotification,
} from './notification-frames.js'

export type NotificationTransport = 'websocket' | 'sse'

/** The subset of a pino logger the listener uses. */
export interface NotificationLogger {
  debug(obj: object, msg: string): void
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
}

/** The largest notification (a WebSocket message, an SSE event) taken; PMS sends a few KiB. */
export const MAX_NOTIFICATION_BYTES = 4 * 1024 * 1024

export interface NotificationListenerOptions {
  baseUrl: string
  token: string
  clientIdentifier?: string
  product?: string
  /** `auto` (default) tries the WebSocket first and SSE when it fails. */
  transport?: 'auto' | NotificationTransport
  backoff?: BackoffOptions
  /** Random source for the backoff jitter (0..1). */
  random?: () => number
  /** Clock (ms) used to measure the gap reported by `reconnected`. */
  now?: () => number
  /** Deadline to open a connection, default 10 000 ms. */
  connectTimeoutMs?: number
  /**
   * A connection silent for this long is treated as dead, default 30 000 ms (PMS pings SSE clients
   * every 10 s; WebSocket connections are pinged by the listener at this interval).
   */
  heartbeatMs?: number
  extraHeaders?: Record<string, string>
  logger?: NotificationLogger
}

export interface NotificationEvents {
  playing: [PlayingNotification[]]
  activity: [ActivityNotification[]]
  timeline: [TimelineEntry[]]
  status: [StatusNotification[]]
  transcodeSession: [TranscodeSessionNotification]
  /** Every notification as PMS sent it (before parsing), with its SSE event name if it came by SSE. */
  frame: [{ text: string; event: string | undefined }]
  /** Every time a connection is established. */
  connected: [{ transport: NotificationTransport }]
  /** An established connection was lost; the listener is retrying. */
  disconnected: [{ transport: NotificationTransport; reason: string }]
  /** Connected again after a loss: notifications from `downtimeMs` were missed, reload caches. */
  reconnected: [{ transport: NotificationTransport; downtimeMs: number }]
  /** A frame that could not be read was dropped: whatever it said was missed. */
  dropped: [{ reason: string }]
  /** A connection attempt failed; the next one starts after `delayMs`. */
  retrying: [{ attempt: number; delayMs: number; reason: string }]
}

const silentLogger: NotificationLogger = { debug() {}, info() {}, warn() {} }

export class NotificationListener extends EventEmitter<NotificationEvents> {
  private closed = false
  private ws: WebSocket | undefined
  private sse: AbortController | undefined
  private current: NotificationTransport | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private failures = 0
  private lostAt: number | undefined
  private readonly baseUrl: string
  private readonly headers: Record<string, string>
  private readonly log: NotificationLogger
  private readonly now: () => number
  private readonly connectTimeoutMs: number
  private readonly heartbeatMs: number

  constructor(private readonly opts: NotificationListenerOptions) {
    super()
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '')
    this.log = opts.logger ?? silentLogger
    this.now = opts.now ?? Date.now
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000
    this.heartbeatMs = opts.heartbeatMs ?? 30_000
    this.headers = {
      'X-Plex-Token': opts.token,
      'X-Plex-Client-Identifier': opts.clientIdentifier ?? 'komandorr-cache-notifications',
      'X-Plex-Product': opts.product ?? 'komandorr-cache',
      'X-Plex-Version': VERSION,
      'X-Plex-Platform': 'Node.js',
      'X-Plex-Device-Name': opts.product ?? 'komandorr-cache',
      ...opts.extraHeaders,
    }
  }

  /** The transport currently connected, if any. */
  get transport(): NotificationTransport | undefined {
    return this.current
  }

  get isConnected(): boolean {
    return this.current !== undefined
  }

  /** Starts connecting; called by createNotificationListener. */
  start(): void {
    void this.connect()
  }

  /** Stops listening for good: no more events, no reconnects. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.retryTimer)
    this.current = undefined
    this.sse?.abort()
    this.sse = undefined
    const ws = this.ws
    this.ws = undefined
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve())
        ws.terminate()
      })
    }
  }

  private redact(text: string): string {
    return redactToken(text, this.opts.token)
  }

  private async connect(): Promise<void> {
    const mode = this.opts.transport ?? 'auto'
    const reasons: string[] = []
    if (mode !== 'sse') {
      const failure = await this.openWebSocket()
      if (failure === undefined) return
      reasons.push(`WebSocket ${failure}`)
    }
    if (this.closed) return
    if (mode !== 'websocket') {
      const failure = await this.openEventSource()
      if (failure === undefined) return
      reasons.push(`SSE ${failure}`)
    }
    if (this.closed) return
    this.scheduleRetry(reasons.join('; '))
  }

  private scheduleRetry(reason: string): void {
    if (this.closed) return
    this.failures++
    const delayMs = backoffDelay(this.failures, this.opts.backoff, this.opts.random)
    this.log.warn({ attempt: this.failures, delayMs, reason }, 'Plex notifications unavailable, retrying')
    this.emit('retrying', { attempt: this.failures, delayMs, reason })
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      void this.connect()
    }, delayMs)
  }

  private established(transport: NotificationTransport): void {
    this.failures = 0
    this.current = transport
    this.log.info({ transport }, 'Plex notifications connected')
    this.emit('connected', { transport })
    if (this.lostAt !== undefined) {
      const downtimeMs = Math.max(0, this.now() - this.lostAt)
      this.lostAt = undefined
      this.emit('reconnected', { transport, downtimeMs })
    }
  }

  private lost(transport: NotificationTransport, reason: string): void {
    if (this.closed || this.current !== transport) return
    this.current = undefined
    this.lostAt = this.now()
    this.log.warn({ transport, reason }, 'Plex notifications disconnected')
    this.emit('disconnected', { transport, reason })
    this.scheduleRetry(reason)
  }

  /** Resolves undefined once open, or the reason it could not open. */
  private openWebSocket(): Promise<string | undefined> {
    const url = `${this.baseUrl.replace(/^http/i, 'ws')}/:/websockets/notifications`
    return new Promise((resolve) => {
      let opened = false
      const ws = new WebSocket(url, {
        headers: this.headers,
        handshakeTimeout: this.connectTimeoutMs,
        maxPayload: MAX_NOTIFICATION_BYTES,
      })
      let alive = true
      let heartbeat: NodeJS.Timeout | undefined
      ws.on('unexpected-response', (req, res) => {
        resolve(`answered ${res.statusCode ?? '?'}`)
        res.resume()
        req.destroy()
      })
      ws.on('error', (err) => {
        if (!opened) resolve(`failed: ${this.redact(err.message)}`)
        else this.log.debug({ err: this.redact(err.message) }, 'Plex notifications WebSocket error')
      })
      ws.on('open', () => {
        opened = true
        if (this.closed) {
          ws.terminate()
          resolve('closed')
          return
        }
        this.ws = ws
        heartbeat = setInterval(() => {
          if (!alive) return void ws.terminate()
          alive = false
          ws.ping()
        }, this.heartbeatMs)
        this.established('websocket')
        resolve(undefined)
      })
      ws.on('pong', () => {
        alive = true
      })
      ws.on('message', (data) => {
        alive = true
        this.dispatch(data.toString())
      })
      ws.on('close', (code) => {
        clearInterval(heartbeat)
        if (!opened) return resolve(`closed (${code})`)
        if (this.ws !== ws) return
        this.ws = undefined
        this.lost('websocket', `closed (${code})`)
      })
    })
  }

  /** Resolves undefined once the stream answered 200, or the reason it could not. */
  private async openEventSource(): Promise<string | undefined> {
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), this.connectTimeoutMs)
    let res: Response
    try {
      res = await fetch(`${this.baseUrl}/:/eventsource/notifications`, {
        headers: { ...this.headers, Accept: 'text/event-stream' },
        signal: controller.signal,
      })
    } catch (err) {
      const cause = (err as { cause?: Error }).cause ?? (err as Error)
      return `failed: ${this.redact(cause?.message ?? String(err))}`
    } finally {
      clearTimeout(timer)
    }
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel().catch(() => {})
      return `answered ${res.status}`
    }
    if (this.closed) {
      controller.abort()
      return 'closed'
    }
    this.sse = controller
    this.established('sse')
    void this.readEventStream(res.body, controller)
    return undefined
  }

  private async readEventStream(body: ReadableStream<Uint8Array>, controller: AbortController): Promise<void> {
    const decoder = new TextDecoder()
    let buffer = ''
    let idle = setTimeout(() => controller.abort(), this.heartbeatMs)
    let reason = 'stream ended'
    let tooLong = false
    try {
      for await (const chunk of body) {
        clearTimeout(idle)
        idle = setTimeout(() => controller.abort(), this.heartbeatMs)
        buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n')
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          this.dispatchEventBlock(block)
        }
        if (buffer.length > MAX_NOTIFICATION_BYTES) {
          tooLong = true
          reason = `an event passed ${MAX_NOTIFICATION_BYTES} bytes without ending`
          controller.abort()
          break
        }
      }
    } catch (err) {
      if (!tooLong)
        reason = controller.signal.aborted
          ? 'no data within the heartbeat'
          : `failed: ${this.redact((err as Error).message)}`
    } finally {
      clearTimeout(idle)
    }
    if (this.sse !== controller) return
    this.sse = undefined
    this.lost('sse', reason)
  }

  private dispatchEventBlock(block: string): void {
    let event: string | undefined
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'event') event = value
      else if (field === 'data') data.push(value)
    }
    if (data.length && event !== 'ping') this.dispatch(data.join('\n'), event)
  }

  private dispatch(text: string, eventName?: string): void {
    if (this.closed) return
    this.emit('frame', { text, event: eventName })
    let n
    try {
      n = parseNotification(text, eventName)
    } catch (err) {
      const reason = (err as Error).message
      this.log.warn({ err: reason }, 'Plex notification dropped')
      this.emit('dropped', { reason })
      return
    }
    if (!n) return
    switch (n.type) {
      case 'playing':
        return void this.emit('playing', n.items)
      case 'activity':
        return void this.emit('activity', n.items)
      case 'timeline':
        return void this.emit('timeline', n.items)
      case 'status':
        return void this.emit('status', n.items)
      case 'transcodeSession':
        return void this.emit('transcodeSession', n.notification)
    }
  }
}

export function createNotificationListener(opts: NotificationListenerOptions): NotificationListener {
  const listener = new NotificationListener(opts)
  listener.start()
  return listener
}

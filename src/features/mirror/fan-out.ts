// PMS's notifications for every tool pointed at the mirror, from the service's one stream: the
// WebSocket `/:/websockets/notifications` and the SSE `/:/eventsource/notifications` each get
// every frame as PMS sent it (SSE with PMS's event name), so N tools cost PMS one stream.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'

/** PMS pings SSE clients this often; so does the mirror (a proxy between may close a silent stream). */
const SSE_PING_MS = 10_000
/** A client this far behind is dropped rather than buffered for. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024

export interface NotificationFrame {
  readonly text: string
  /** The SSE event name when the frame came by SSE; else read from the frame's `NotificationContainer.type`. */
  readonly event: string | undefined
}

export class NotificationFanOut {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 })
  private readonly streams = new Set<ServerResponse>()
  private readonly ping: NodeJS.Timeout
  /** Frames sent since start, for the stats. */
  frames = 0

  constructor() {
    this.ping = setInterval(() => this.writeSse('event: ping\ndata: {}\n\n'), SSE_PING_MS)
    this.ping.unref()
  }

  get clients(): { readonly websocket: number; readonly sse: number } {
    return { websocket: this.wss.clients.size, sse: this.streams.size }
  }

  /** Sends one frame of the upstream stream to every client. */
  send(frame: NotificationFrame): void {
    this.frames++
    for (const client of this.wss.clients) {
      if (client.bufferedAmount > MAX_BUFFERED_BYTES) client.terminate()
      else client.send(frame.text)
    }
    if (this.streams.size === 0) return
    const event = frame.event ?? typeOf(frame.text)
    const data = frame.text
      .split('\n')
      .map((line) => `data: ${line}\n`)
      .join('')
    this.writeSse(`${event === undefined ? '' : `event: ${event}\n`}${data}\n`)
  }

  acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (client: WebSocket) => {
      client.on('error', () => client.terminate())
      // Clients only listen; what they send is ignored, as PMS does.
      client.on('message', () => undefined)
    })
  }

  acceptEventSource(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    })
    res.flushHeaders()
    this.streams.add(res)
    res.on('close', () => this.streams.delete(res))
  }

  close(): void {
    clearInterval(this.ping)
    for (const client of this.wss.clients) client.terminate()
    for (const res of this.streams) res.destroy()
    this.streams.clear()
    this.wss.close()
  }

  private writeSse(chunk: string): void {
    for (const res of this.streams) {
      if (res.writableLength > MAX_BUFFERED_BYTES) res.destroy()
      else res.write(chunk)
    }
  }
}

function typeOf(text: string): string | undefined {
  try {
    const type = (JSON.parse(text) as { NotificationContainer?: { type?: unknown } }).NotificationContainer?.type
    return typeof type === 'string' ? type : undefined
  } catch {
    return undefined
  }
}

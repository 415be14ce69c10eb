import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Notification, NotificationSink } from './state.js'

/**
 * Fans live-state notifications out to WebSocket and SSE clients.
 * WebSocket frames are whole containers, `{"NotificationContainer":{"type","size",<key>:[...]}}`.
 * SSE events carry the notification name and one object, as PMS sends them:
 * `event: playing` / `data: {"PlaySessionStateNotification":{...}}`; `ping` every tick.
 */
export class NotificationHub implements NotificationSink {
  private readonly wss = new WebSocketServer({ noServer: true })
  private readonly sockets = new Set<WebSocket>()
  private readonly streams = new Map<ServerResponse, Set<string> | null>()

  hasListeners(): boolean {
    return this.sockets.size > 0 || this.streams.size > 0
  }

  publish(n: Notification): void {
    if (n.type === 'ping') {
      for (const res of this.streams.keys()) res.write('event: ping\ndata: {}\n\n')
      return
    }
    if (!n.key || !n.entry) return
    if (this.sockets.size > 0) {
      const frame = JSON.stringify({ NotificationContainer: { type: n.type, size: 1, [n.key]: [n.entry] } })
      for (const ws of this.sockets) if (ws.readyState === ws.OPEN) ws.send(frame)
    }
    if (this.streams.size > 0) {
      const event = `event: ${n.type}\ndata: ${JSON.stringify({ [n.key]: n.entry })}\n\n`
      for (const [res, filters] of this.streams) {
        if (filters === null || filters.has(n.type)) res.write(event)
      }
    }
  }

  acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.sockets.add(ws)
      ws.on('close', () => this.sockets.delete(ws))
      ws.on('error', () => this.sockets.delete(ws))
    })
  }

  acceptEventSource(res: ServerResponse, filters: string | null): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    })
    res.flushHeaders()
    const set = filters
      ? new Set(
          filters
            .split(',')
            .map((f) => f.trim())
            .filter(Boolean),
        )
      : null
    this.streams.set(res, set && set.size > 0 ? set : null)
    res.on('close', () => this.streams.delete(res))
  }

  counts(): { websocket: number; eventsource: number } {
    return { websocket: this.sockets.size, eventsource: this.streams.size }
  }

  /** Closes every notification connection, as a restarting PMS would. */
  dropAll(): number {
    const n = this.sockets.size + this.streams.size
    for (const ws of this.sockets) ws.terminate()
    this.sockets.clear()
    for (const res of this.streams.keys()) res.destroy()
    this.streams.clear()
    return n
  }

  close(): void {
    this.dropAll()
    this.wss.close()
  }
}

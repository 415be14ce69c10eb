import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'

export const TRAFFIC_SOCKET_PATH = '/api/traffic/ws'

/** More open dashboards than this on one instance get a 503 on upgrade: the set stays bounded. */
export const MAX_TRAFFIC_SOCKETS = 1000

export interface TrafficSocketDeps {
  readonly server: Server
  /** The summary each client gets on connect and after every traffic update. */
  readonly summary: () => Promise<unknown>
  /** Subscribes to stored traffic reports; returns the unsubscribe. */
  readonly onTrafficUpdate: (listener: () => void) => () => void
  readonly log: { warn(object: object, message: string): void }
}

/**
 * `/api/traffic/ws`, as Komandorr has it: the traffic summary on connect, then again after each
 * traffic update. Updates that arrive while a summary is being built are folded into one more
 * build, so a burst of agents' reports costs two builds, not one each. Open without credentials
 * like Komandorr's (a browser's WebSocket cannot send the dashboard's Basic credentials).
 */
export function attachTrafficSocket(deps: TrafficSocketDeps): { close(): void } {
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 4096 })
  let building = false
  let again = false

  const send = (socket: WebSocket, text: string) => {
    if (socket.readyState === socket.OPEN) socket.send(text)
  }
  const summaryText = async () => JSON.stringify(await deps.summary())

  const broadcast = async (): Promise<void> => {
    if (building) {
      again = true
      return
    }
    building = true
    try {
      do {
        again = false
        if (sockets.clients.size === 0) return
        const text = await summaryText()
        for (const socket of sockets.clients) send(socket, text)
      } while (again)
    } catch (error) {
      deps.log.warn({ err: error }, 'traffic summary for the WebSocket failed')
    } finally {
      building = false
    }
  }

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? '').split('?', 1)[0]
    if (path !== TRAFFIC_SOCKET_PATH) {
      // Node destroys an upgrade nobody listens for; with this listener that is ours to do.
      if (deps.server.listenerCount('upgrade') === 1) {
        refuse(
          socket,
          '404 Not Found',
          `Not found: no WebSocket at ${path}; the traffic feed is ${TRAFFIC_SOCKET_PATH}`,
        )
      }
      return
    }
    if (sockets.clients.size >= MAX_TRAFFIC_SOCKETS) {
      return refuse(
        socket,
        '503 Service Unavailable',
        `${MAX_TRAFFIC_SOCKETS} traffic WebSockets are open: try again later`,
      )
    }
    sockets.handleUpgrade(request, socket, head, (client) => {
      sockets.emit('connection', client, request)
      client.on('error', () => client.terminate())
      summaryText().then(
        (text) => send(client, text),
        (error: unknown) => {
          deps.log.warn({ err: error }, 'traffic summary for the WebSocket failed')
          client.close(1011, 'traffic summary failed')
        },
      )
    })
  }

  deps.server.on('upgrade', onUpgrade)
  const unsubscribe = deps.onTrafficUpdate(() => void broadcast())
  return {
    close() {
      unsubscribe()
      deps.server.off('upgrade', onUpgrade)
      for (const client of sockets.clients) client.terminate()
      sockets.close()
    },
  }
}

function refuse(socket: Duplex, status: string, detail: string): void {
  const body = JSON.stringify({ detail })
  socket.end(
    `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
}

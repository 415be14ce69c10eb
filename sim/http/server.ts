import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { plexTvUnauthorized } from '../endpoints/plextv.js'
import type { NotificationHub } from '../live/notifications.js'
import type { LiveState } from '../live/state.js'
import { mulberry32, type Rng } from '../random.js'
import type { World } from '../world.js'
import type { RequestCounter } from './counters.js'
import type { EffectiveFault, FaultTable } from './faults.js'
import { htmlError, readPaging, type Reply, type RequestContext } from './reply.js'
import { ROUTES, Router, UNMATCHED_ENDPOINT, type Route } from './routes.js'

export type ControlHandler = (req: IncomingMessage, res: ServerResponse, path: string) => void

interface CachedReply {
  version: string
  reply: Reply
}

const CONTROL_PREFIX = '/__simulator/'
const REPLY_CACHE_LIMIT = 256
const OUTAGE_HOLD_MS = 60_000

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name]
  return Array.isArray(v) ? v[0] : v
}

function redact(url: string): string {
  return url.replace(/([?&]X-Plex-Token=)[^&]*/gi, '$1***')
}

/**
 * The HTTP face of the simulator: routing, token check, counting, fault injection and
 * a reply cache keyed by the live-state versions (so hot endpoints answer from memory,
 * and the simulator is never the bottleneck of a load test).
 */
export class SimHttpServer {
  readonly server: Server
  private readonly router = new Router(ROUTES)
  private readonly sockets = new Set<Duplex>()
  private readonly delayed = new Set<NodeJS.Timeout>()
  private readonly cache = new Map<string, CachedReply>()
  private readonly errorRng: Rng
  private listening = false
  private outageHold: NodeJS.Timeout | undefined
  private port: number

  constructor(
    private readonly world: World,
    private readonly live: LiveState,
    private readonly hub: NotificationHub,
    private readonly counter: RequestCounter,
    private readonly faults: FaultTable,
    private readonly control: ControlHandler,
  ) {
    this.port = world.opts.port
    this.errorRng = mulberry32(world.opts.seed ^ 0xe77)
    this.server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => this.onRequest(req, res))
    this.server.on('connection', (socket: Socket) => this.track(socket))
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head))
    this.server.on('clientError', (_err, socket) => socket.destroy())
  }

  get boundPort(): number {
    return this.port
  }

  async listen(): Promise<void> {
    if (this.listening) return
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err)
      this.server.once('error', onError)
      this.server.listen(this.port, this.world.opts.host, () => {
        this.server.off('error', onError)
        const addr = this.server.address()
        if (addr && typeof addr === 'object') this.port = addr.port
        resolve()
      })
    })
    this.listening = true
  }

  /** Stops listening and cuts every open connection, like a crashed server. */
  async unlisten(): Promise<void> {
    if (!this.listening) return
    this.listening = false
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    this.hub.dropAll()
    for (const s of this.sockets) s.destroy()
    this.sockets.clear()
    await closed
  }

  /**
   * Follows the fault table: down while an outage fault is set, up otherwise. While down, a
   * timer stands in for the closed listener and keeps the process alive, as a listening
   * server would: every other timer of the simulator is unref()'d, so without it a
   * command-line simulator would exit in the middle of its outage.
   */
  async applyOutage(): Promise<void> {
    if (this.faults.hasOutage()) {
      this.outageHold ??= setInterval(() => undefined, OUTAGE_HOLD_MS)
      await this.unlisten()
    } else {
      await this.listen()
      this.releaseOutageHold()
    }
  }

  async close(): Promise<void> {
    for (const t of this.delayed) clearTimeout(t)
    this.delayed.clear()
    this.releaseOutageHold()
    this.hub.close()
    await this.unlisten()
  }

  private releaseOutageHold(): void {
    clearInterval(this.outageHold)
    this.outageHold = undefined
  }

  private track(socket: Duplex): void {
    this.sockets.add(socket)
    socket.on('close', () => this.sockets.delete(socket))
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now()
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q < 0 ? url : url.slice(0, q)
    const rawQuery = q < 0 ? '' : url.slice(q + 1)
    if (path.startsWith(CONTROL_PREFIX)) {
      this.control(req, res, path)
      return
    }
    const match = this.router.match(path)
    const endpoint = match?.route.endpoint ?? UNMATCHED_ENDPOINT
    this.counter.increment(endpoint)
    const fault = this.faults.resolve(endpoint)
    if (fault?.mode === 'drop') {
      this.log(req, url, 'drop', 0, started)
      req.socket.destroy()
      return
    }
    if (fault?.mode === 'hang') {
      this.log(req, url, 'hang', 0, started)
      return
    }
    const query = new URLSearchParams(rawQuery)
    const format = (headerValue(req, 'accept') ?? '').includes('application/json') ? 'json' : 'xml'
    let reply = this.faultReply(fault)
    if (!reply) {
      if (!match || (req.method !== 'GET' && req.method !== 'HEAD')) {
        reply = htmlError(404)
      } else if (!this.authorized(match.route, req, query)) {
        reply = match.route.auth === 'plextv' ? plexTvUnauthorized() : htmlError(401)
      } else if (match.route.kind === 'eventsource') {
        this.live.sync()
        this.hub.acceptEventSource(res, query.get('filters'))
        this.log(req, url, 200, 0, started)
        return
      } else if (match.route.kind === 'websocket' || !match.route.handle) {
        reply = htmlError(400)
      } else {
        this.live.sync()
        const ctx: RequestContext = {
          world: this.world,
          live: this.live,
          path,
          params: match.params,
          query,
          rawQuery,
          headers: req.headers,
          format,
          paging: readPaging(req.headers, query),
        }
        reply = this.answer(match.route, ctx)
      }
    }
    const delay = this.world.opts.latencyMs + (fault ? fault.latencyMs + fault.latencyPerItemMs * reply.items : 0)
    const finalReply = reply
    if (delay > 0) this.later(delay, () => this.send(req, res, url, finalReply, started))
    else this.send(req, res, url, finalReply, started)
  }

  /** Delayed answers are tracked so close() does not leave timers holding the process. */
  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.delayed.delete(timer)
      fn()
    }, ms)
    this.delayed.add(timer)
  }

  private faultReply(fault: EffectiveFault | null): Reply | null {
    if (!fault) return null
    if (fault.status !== undefined) return htmlError(fault.status)
    if (fault.errorRate > 0 && this.errorRng() < fault.errorRate) return htmlError(500)
    return null
  }

  private authorized(route: Route, req: IncomingMessage, query: URLSearchParams): boolean {
    if (route.auth === 'none') return true
    const token = headerValue(req, 'x-plex-token') ?? query.get('X-Plex-Token')
    return token === this.world.opts.token
  }

  private answer(route: Route, ctx: RequestContext): Reply {
    const handle = route.handle!
    if (!route.version) return handle(ctx)
    const query = ctx.rawQuery.includes('X-Plex-Token') ? redact('?' + ctx.rawQuery) : ctx.rawQuery
    const key = `${ctx.path}?${query}|${ctx.format}|${ctx.paging.start}|${ctx.paging.size}|${ctx.paging.requested}`
    const version = route.version(this.world, this.live)
    const hit = this.cache.get(key)
    if (hit && hit.version === version) return hit.reply
    const reply = handle(ctx)
    if (this.cache.size >= REPLY_CACHE_LIMIT) this.cache.clear()
    this.cache.set(key, { version, reply })
    return reply
  }

  private send(req: IncomingMessage, res: ServerResponse, url: string, reply: Reply, started: number): void {
    if (res.destroyed || res.writableEnded) return
    const body = reply.body
    res.writeHead(reply.status, {
      'Content-Type': reply.contentType,
      'Content-Length': body.length,
      'X-Plex-Protocol': '1.0',
      ...(reply.contentType.startsWith('image/') ? {} : { 'Cache-Control': 'no-cache' }),
      ...reply.headers,
    })
    if (req.method === 'HEAD') res.end()
    else res.end(body)
    this.log(req, url, reply.status, body.length, started)
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.track(socket)
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q < 0 ? url : url.slice(0, q)
    const match = this.router.match(path)
    if (!match || match.route.kind !== 'websocket') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
      return
    }
    this.counter.increment(match.route.endpoint)
    const fault = this.faults.resolve(match.route.endpoint)
    if (fault?.mode === 'drop') {
      socket.destroy()
      return
    }
    if (fault?.mode === 'hang') return
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1))
    const refuse = this.faultReply(fault) ?? (this.authorized(match.route, req, query) ? null : htmlError(401))
    const proceed = (): void => {
      if (socket.destroyed) return
      if (refuse) {
        const body = refuse.body
        socket.end(
          `HTTP/1.1 ${refuse.status} ${refuse.status === 401 ? 'Unauthorized' : 'Error'}\r\nContent-Type: ${refuse.contentType}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.toString()}`,
        )
        return
      }
      this.live.sync()
      this.hub.acceptWebSocket(req, socket, head)
    }
    const delay = this.world.opts.latencyMs + (fault?.latencyMs ?? 0)
    if (delay > 0) this.later(delay, proceed)
    else proceed()
    this.log(req, url, refuse?.status ?? 101, 0, performance.now())
  }

  private log(req: IncomingMessage, url: string, status: number | string, bytes: number, started: number): void {
    if (!this.world.opts.log) return
    const ms = (performance.now() - started).toFixed(1)
    const format = (headerValue(req, 'accept') ?? '').includes('application/json') ? 'json' : 'xml'
    process.stdout.write(`${req.method} ${redact(url)} ${status} ${format} ${bytes}B ${ms}ms\n`)
  }
}

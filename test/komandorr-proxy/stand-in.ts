// A small Komandorr for the tests and the bench: real HTTP and a real WebSocket on a fixed port,
// counting every request it receives. Its auth works as Komandorr's middleware does (HTTP Basic
// on everything but /api/auth/, /api/invites/ and the assets when on), and it can go down
// (its port closed) and come back on the same port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'

export interface ReceivedRequest {
  readonly method: string
  /** Path and query as received. */
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly body: string
}

export interface StandInOptions {
  /** Basic credentials Komandorr requires; absent: auth off. */
  readonly auth?: { readonly username: string; readonly password: string }
  /** Milliseconds before each answer (a slow integration behind Komandorr). */
  readonly latencyMs?: number
}

/** Paths Komandorr's middleware lets through without credentials. */
const OPEN = [/^\/api\/auth\//, /^\/api\/invites\//, /^\/assets\//, /^\/icons\//]

export class KomandorrStandIn {
  readonly received: ReceivedRequest[] = []
  /** Changes on every write: a GET's answer carries it, so a test sees whether it is fresh. */
  generation = 0
  /** Fixed JSON answers to `GET path`, in place of the generic `{path, query, generation}`. */
  readonly answers = new Map<string, unknown>()
  /** Messages that came over WebSockets. */
  readonly wsMessages: string[] = []
  private server: Server | undefined
  private wss: WebSocketServer | undefined
  private readonly sockets = new Set<Socket>()
  private port = 0

  private constructor(private options: StandInOptions) {}

  static async start(options: StandInOptions = {}): Promise<KomandorrStandIn> {
    const standIn = new KomandorrStandIn(options)
    await standIn.up()
    return standIn
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** Turns Komandorr's auth on (with these credentials) or off. */
  setAuth(auth: StandInOptions['auth']): void {
    this.options = { ...this.options, auth }
  }

  /** How many requests came for `METHOD path` (the path without its query, unless `url` has one). */
  count(method: string, url: string): number {
    return this.received.filter((r) => r.method === method && (url.includes('?') ? r.url : r.url.split('?')[0]) === url)
      .length
  }

  /** Requests per `METHOD path`, the paths without their query. */
  counts(): Record<string, number> {
    const counts: Record<string, number> = {}
    for (const r of this.received) {
      const key = `${r.method} ${r.url.split('?')[0]}`
      counts[key] = (counts[key] ?? 0) + 1
    }
    return counts
  }

  reset(): void {
    this.received.length = 0
    this.wsMessages.length = 0
  }

  /** Closes the port: connections are refused until `up`. */
  async down(): Promise<void> {
    const server = this.server
    if (server === undefined) return
    this.server = undefined
    for (const client of this.wss?.clients ?? []) client.terminate()
    this.wss?.close()
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** Listens again (on the same port after a `down`). */
  async up(): Promise<void> {
    if (this.server !== undefined) return
    const server = createServer((request, response) => this.receive(request, response))
    server.on('connection', (socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
    const wss = new WebSocketServer({ noServer: true })
    server.on('upgrade', (request, socket, head) => {
      if (request.url?.split('?')[0] !== '/api/traffic/ws') return socket.destroy()
      this.received.push({ method: 'GET', url: request.url, headers: request.headers, body: '' })
      wss.handleUpgrade(request, socket, head, (ws) => this.tunnelOpened(ws))
    })
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve))
    this.port = (server.address() as AddressInfo).port
    this.server = server
    this.wss = wss
  }

  /** Pushes a traffic update to every open WebSocket, as Komandorr does after a traffic agent's report. */
  pushTraffic(data: unknown): void {
    for (const client of this.wss?.clients ?? []) client.send(JSON.stringify({ type: 'traffic_update', data }))
  }

  async close(): Promise<void> {
    await this.down()
  }

  private tunnelOpened(ws: WebSocket): void {
    ws.send(JSON.stringify({ type: 'traffic_summary', generation: this.generation }))
    ws.on('message', (data) => {
      const text = String(data)
      this.wsMessages.push(text)
      ws.send(JSON.stringify({ type: 'echo', data: text }))
    })
  }

  private receive(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const method = request.method ?? 'GET'
      const url = request.url ?? '/'
      this.received.push({ method, url, headers: request.headers, body })
      const answer = () => this.answer(method, url, request.headers, body, response)
      if (this.options.latencyMs) setTimeout(answer, this.options.latencyMs)
      else answer()
    })
  }

  private answer(
    method: string,
    url: string,
    headers: IncomingMessage['headers'],
    body: string,
    response: ServerResponse,
  ): void {
    const path = url.split('?')[0]!
    const json = (status: number, value: unknown, extra: Record<string, string> = {}) => {
      response.writeHead(status, { 'content-type': 'application/json', ...extra })
      response.end(JSON.stringify(value))
    }
    const auth = this.options.auth
    if (auth !== undefined && !OPEN.some((open) => open.test(path))) {
      const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`
      if (headers.authorization === undefined) return json(401, { detail: 'Authentication required' })
      if (headers.authorization !== expected) return json(401, { detail: 'Invalid username or password' })
    }
    if (path === '/api/auth/status') return json(200, { enabled: auth !== undefined })
    if (path === '/' || path === '/index.html') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      return void response.end('<!doctype html><title>Komandorr</title><div id="root"></div>')
    }
    if (path.startsWith('/assets/')) {
      response.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'public, max-age=31536000' })
      return void response.end(`console.log(${JSON.stringify(path)})`)
    }
    if (path === '/api/teapot') return json(418, { detail: 'I am a teapot' }, { 'x-komandorr': 'teapot' })
    if ((method === 'GET' || method === 'HEAD') && this.answers.has(path)) return json(200, this.answers.get(path))
    if (method === 'GET' || method === 'HEAD') {
      return json(200, {
        path,
        query: url.includes('?') ? url.slice(url.indexOf('?') + 1) : '',
        generation: this.generation,
      })
    }
    this.generation++
    json(
      200,
      {
        method,
        path,
        query: url.includes('?') ? url.slice(url.indexOf('?') + 1) : '',
        body,
        generation: this.generation,
      },
      {
        'x-komandorr': 'written',
      },
    )
  }
}

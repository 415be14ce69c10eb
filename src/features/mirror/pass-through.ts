// Everything the mirror does not answer itself goes to PMS untouched and streamed, any method:
// request and answer bodies are piped with backpressure, never buffered, so a media stream or a
// download costs the process a few socket buffers however large it is.
import http, {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http'
import https from 'node:https'
import type { Duplex } from 'node:stream'
import { pipeline } from 'node:stream'

// Hop-by-hop headers (RFC 9110 7.6.1): each side's connection sets its own.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
])

const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: 256 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 256 }),
}

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) out[name] = value
  return out
}

function upstream(base: URL, req: IncomingMessage, headers: OutgoingHttpHeaders, agent: http.Agent | false) {
  const lib = base.protocol === 'https:' ? https : http
  return lib.request({
    protocol: base.protocol,
    hostname: base.hostname,
    port: base.port,
    method: req.method,
    path: base.pathname.replace(/\/+$/, '') + req.url,
    headers: { ...headers, host: base.host },
    agent,
  })
}

/**
 * Sends `req` to PMS at `base` and streams its answer back. `onAnswer` is told PMS's status
 * once its headers arrive (a write that PMS accepted drops cached answers).
 */
export function passThrough(
  base: URL,
  req: IncomingMessage,
  res: ServerResponse,
  onAnswer?: (status: number) => void,
): void {
  const out = upstream(base, req, endToEnd(req.headers), agents[base.protocol as 'http:' | 'https:'] ?? false)
  out.on('response', (answer) => {
    onAnswer?.(answer.statusCode ?? 502)
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers))
    pipeline(answer, res, () => undefined)
  })
  // A client that leaves ends the upstream request too (pipeline destroys both on error).
  pipeline(req, out, (error) => {
    if (error === undefined || error === null) return
    if (!res.headersSent) badGateway(res)
    else res.destroy()
  })
  res.on('close', () => {
    if (!res.writableFinished) out.destroy()
  })
}

export function badGateway(res: ServerResponse, detail = 'the Plex Media Server could not be reached'): void {
  if (res.headersSent) return void res.destroy()
  const body = `502 Bad Gateway: ${detail}\n`
  res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/**
 * A WebSocket (or other) upgrade passed through to PMS: PMS's own answer is relayed, and on a
 * 101 the two sockets are joined.
 */
export function passUpgrade(base: URL, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const headers: OutgoingHttpHeaders = { ...req.headers, host: base.host }
  const out = upstream(base, req, headers, false)
  out.on('upgrade', (answer, upstreamSocket, upstreamHead) => {
    socket.write(statusLine(answer) + rawHeaders(answer.rawHeaders))
    if (upstreamHead.length > 0) socket.write(upstreamHead)
    if (head.length > 0) upstreamSocket.write(head)
    upstreamSocket.on('error', () => socket.destroy())
    socket.on('error', () => upstreamSocket.destroy())
    upstreamSocket.pipe(socket).pipe(upstreamSocket)
  })
  out.on('response', (answer) => {
    socket.write(statusLine(answer) + rawHeaders(answer.rawHeaders.filter(notChunked())))
    answer.on('data', (chunk: Buffer) => socket.write(chunk))
    answer.on('end', () => socket.end())
  })
  out.on('error', () => {
    if (socket.writable) socket.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
  })
  socket.on('error', () => out.destroy())
  out.end()
}

const statusLine = (answer: IncomingMessage) => `HTTP/1.1 ${answer.statusCode ?? 502} ${answer.statusMessage ?? ''}\r\n`

function rawHeaders(raw: string[]): string {
  let text = ''
  for (let i = 0; i + 1 < raw.length; i += 2) text += `${raw[i]}: ${raw[i + 1]}\r\n`
  return `${text}\r\n`
}

/** Drops `transfer-encoding` (and its value) from raw headers: the body is relayed decoded, up to the close. */
function notChunked() {
  let skipNext = false
  return (_item: string, i: number, raw: string[]) => {
    if (skipNext) {
      skipNext = false
      return false
    }
    if (i % 2 === 0 && raw[i]!.toLowerCase() === 'transfer-encoding') {
      skipNext = true
      return false
    }
    return true
  }
}

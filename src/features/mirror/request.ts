import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { MirrorRequest } from './pms-answer.js'

/** A longer path and query is passed through rather than held (no client grows a key without bound). */
const MAX_KEY_CHARS = 1024

export interface ParsedQuery {
  /** `X-Plex-Token` from the query, if any. */
  readonly token: string | undefined
  /** The parameters that make the answer, sorted: the query without the token and the `X-Plex-*` identification. */
  readonly kept: string
}

/** Splits a raw query (after `?`); names are compared case-insensitively, values kept as sent. */
export function parseQuery(raw: string): ParsedQuery {
  if (raw === '') return { token: undefined, kept: '' }
  let token: string | undefined
  const kept: string[] = []
  for (const part of raw.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const name = safeDecode(eq < 0 ? part : part.slice(0, eq)).toLowerCase()
    if (name === 'x-plex-token') token = safeDecode(eq < 0 ? '' : part.slice(eq + 1))
    else if (!name.startsWith('x-plex-') || name.startsWith('x-plex-container-')) kept.push(part)
  }
  return { token, kept: kept.sort().join('&') }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '))
  } catch {
    return text
  }
}

/** The client's token: the `X-Plex-Token` header, else the query's. */
export function tokenOf(req: IncomingMessage, query: ParsedQuery): string | undefined {
  const header = req.headers['x-plex-token']
  return (Array.isArray(header) ? header[0] : header) ?? query.token
}

const digest = (text: string): Buffer => createHash('sha256').update(text).digest()

/** Compares tokens in constant time (over their digests, so the length leaks nothing either). */
export class ServerToken {
  private digest: Buffer | undefined
  private token: string | undefined

  /** Whether `candidate` is `token`, the server's own. */
  matches(candidate: string | undefined, token: string | undefined): boolean {
    if (candidate === undefined || token === undefined || token === '') return false
    if (this.token !== token) {
      this.token = token
      this.digest = digest(token)
    }
    return timingSafeEqual(digest(candidate), this.digest!)
  }
}

/** The request headers that make PMS's answer: its format and paging. */
export interface Asked {
  readonly accept: string | undefined
  readonly start: string | undefined
  readonly size: string | undefined
}

/** The cache entry a GET asks for, or undefined when it is too long to hold. */
export function mirrorRequestOf(asked: Asked, path: string, query: ParsedQuery): MirrorRequest | undefined {
  const json = /application\/json/i.test(asked.accept ?? '')
  const { start, size } = asked
  const target = query.kept === '' ? path : `${path}?${query.kept}`
  const key = `${json ? 'json' : 'xml'} ${target} ${start ?? ''}/${size ?? ''}`
  if (key.length > MAX_KEY_CHARS) return undefined
  const paging: Record<string, string> = {}
  if (start !== undefined) paging['X-Plex-Container-Start'] = start
  if (size !== undefined) paging['X-Plex-Container-Size'] = size
  return { key, target, json, paging }
}

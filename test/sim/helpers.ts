import { XMLParser } from 'fast-xml-parser'
import type { RunningSimulator } from '../../sim/index.js'

export interface GetOptions {
  json?: boolean
  token?: string | null
  headers?: Record<string, string>
  start?: number
  size?: number
  signal?: AbortSignal
}

/** A GET against the simulator the way a PMS client sends it (token header, optional paging headers). */
export async function get(sim: RunningSimulator, path: string, opts: GetOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers }
  const token = opts.token === undefined ? sim.token : opts.token
  if (token !== null) headers['X-Plex-Token'] = token
  if (opts.json) headers.Accept = 'application/json'
  if (opts.start !== undefined) headers['X-Plex-Container-Start'] = String(opts.start)
  if (opts.size !== undefined) headers['X-Plex-Container-Size'] = String(opts.size)
  return fetch(sim.url + path, { headers, ...(opts.signal ? { signal: opts.signal } : {}) })
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any

/** The system error code (ECONNREFUSED, ECONNRESET...) under a failed fetch. */
export function causeCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: string } }).cause
  return cause?.code
}

export async function getJson(sim: RunningSimulator, path: string, opts: GetOptions = {}): Promise<Json> {
  const res = await get(sim, path, { ...opts, json: true })
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`)
  return (await res.json()) as Json
}

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  isArray: (name, _path, _leaf, isAttribute) => !isAttribute && name !== 'MediaContainer',
})

/** Parsed XML with every attribute left a string, as on the wire. */
export async function getXml(sim: RunningSimulator, path: string, opts: GetOptions = {}): Promise<Json> {
  const res = await get(sim, path, opts)
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`)
  return xml.parse(await res.text()) as Json
}

export function parseXml(text: string): Json {
  return xml.parse(text) as Json
}

import type { Fault, FaultMode, FaultStatus } from '../types.js'
import { ROUTES, UNMATCHED_ENDPOINT } from './routes.js'

export interface EffectiveFault {
  latencyMs: number
  latencyPerItemMs: number
  errorRate: number
  status?: FaultStatus
  mode?: Exclude<FaultMode, 'outage'>
}

const ENDPOINTS: ReadonlySet<string> = new Set(['*', ...ROUTES.map((r) => r.endpoint), UNMATCHED_ENDPOINT])
const STATUSES: ReadonlySet<number> = new Set([401, 500, 503])
const MODES: ReadonlySet<string> = new Set(['hang', 'drop', 'outage'])

/** Throws a message naming the bad field; the HTTP control API answers it as a 400. */
export function validateFault(input: unknown): Fault {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new Error('fault must be a JSON object')
  const f = input as Record<string, unknown>
  const known = new Set(['endpoint', 'latencyMs', 'latencyPerItemMs', 'errorRate', 'status', 'mode', 'durationMs'])
  for (const key of Object.keys(f))
    if (!known.has(key)) throw new Error(`fault field "${key}" is unknown (known: ${[...known].join(', ')})`)
  const out: Fault = {}
  if (f.endpoint !== undefined) {
    if (typeof f.endpoint !== 'string' || !ENDPOINTS.has(f.endpoint)) {
      throw new Error(
        `fault endpoint ${JSON.stringify(f.endpoint)} is not one of the simulator's endpoint patterns: "*", ${[
          ...ENDPOINTS,
        ]
          .filter((e) => e !== '*')
          .map((e) => `"${e}"`)
          .join(', ')}`,
      )
    }
    out.endpoint = f.endpoint
  }
  for (const key of ['latencyMs', 'latencyPerItemMs', 'durationMs'] as const) {
    const v = f[key]
    if (v === undefined) continue
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new Error(`fault ${key} must be a number >= 0, got ${JSON.stringify(v)}`)
    out[key] = v
  }
  if (f.errorRate !== undefined) {
    if (typeof f.errorRate !== 'number' || !(f.errorRate >= 0 && f.errorRate <= 1))
      throw new Error(`fault errorRate must be a number from 0 to 1, got ${JSON.stringify(f.errorRate)}`)
    out.errorRate = f.errorRate
  }
  if (f.status !== undefined) {
    if (typeof f.status !== 'number' || !STATUSES.has(f.status))
      throw new Error(`fault status must be 401, 500 or 503, got ${JSON.stringify(f.status)}`)
    out.status = f.status as FaultStatus
  }
  if (f.mode !== undefined) {
    if (typeof f.mode !== 'string' || !MODES.has(f.mode))
      throw new Error(`fault mode must be "hang", "drop" or "outage", got ${JSON.stringify(f.mode)}`)
    out.mode = f.mode as FaultMode
  }
  return out
}

/**
 * Active faults keyed by endpoint pattern. A second fault for the same endpoint merges
 * into the first; a request sees its endpoint's fault and the '*' fault together
 * (latencies add, error rates compound, the specific status/mode wins).
 */
export class FaultTable {
  private readonly byEndpoint = new Map<string, Fault>()
  private readonly timers = new Map<string, NodeJS.Timeout>()

  constructor(private readonly onExpire: () => void) {}

  set(fault: Fault): void {
    const endpoint = fault.endpoint ?? '*'
    const merged: Fault = { ...this.byEndpoint.get(endpoint), ...fault, endpoint }
    this.byEndpoint.set(endpoint, merged)
    const old = this.timers.get(endpoint)
    if (old) clearTimeout(old)
    this.timers.delete(endpoint)
    if (fault.durationMs !== undefined) {
      const timer = setTimeout(() => {
        this.timers.delete(endpoint)
        this.byEndpoint.delete(endpoint)
        this.onExpire()
      }, fault.durationMs)
      timer.unref()
      this.timers.set(endpoint, timer)
    }
  }

  clear(): void {
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
    this.byEndpoint.clear()
  }

  list(): Fault[] {
    return [...this.byEndpoint.values()].map((f) => ({ ...f }))
  }

  get size(): number {
    return this.byEndpoint.size
  }

  hasOutage(): boolean {
    for (const f of this.byEndpoint.values()) if (f.mode === 'outage') return true
    return false
  }

  resolve(endpoint: string): EffectiveFault | null {
    if (this.byEndpoint.size === 0) return null
    const specific = this.byEndpoint.get(endpoint)
    const wildcard = this.byEndpoint.get('*')
    if (!specific && !wildcard) return null
    const parts = [specific, wildcard].filter((f): f is Fault => f !== undefined)
    const status = specific?.status ?? wildcard?.status
    const mode = [specific?.mode, wildcard?.mode].find((m) => m === 'hang' || m === 'drop') as EffectiveFault['mode']
    return {
      latencyMs: parts.reduce((sum, f) => sum + (f.latencyMs ?? 0), 0),
      latencyPerItemMs: parts.reduce((sum, f) => sum + (f.latencyPerItemMs ?? 0), 0),
      errorRate: 1 - parts.reduce((p, f) => p * (1 - (f.errorRate ?? 0)), 1),
      ...(status !== undefined ? { status } : {}),
      ...(mode !== undefined ? { mode } : {}),
    }
  }
}

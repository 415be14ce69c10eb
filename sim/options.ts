import { performance } from 'node:perf_hooks'
import type { SimulatorOptions } from './types.js'

export const DEFAULT_START_TIME = 1_767_225_600
export const MAX_ITEMS = 100_000
export const MAX_HISTORY_ROWS = 1_000_000

/** Every option set; `sharedUsers` stays undefined when the seed draws it. */
export type ResolvedOptions = Required<Omit<SimulatorOptions, 'sharedUsers'>> & Pick<SimulatorOptions, 'sharedUsers'>

export function resolveOptions(opts: SimulatorOptions = {}): ResolvedOptions {
  const items = opts.items ?? 500
  const resolved: ResolvedOptions = {
    port: opts.port ?? 32400,
    host: opts.host ?? '127.0.0.1',
    token: opts.token ?? 'sim-token',
    seed: opts.seed ?? 1,
    items,
    historyRows: opts.historyRows ?? Math.min(items * 2, MAX_HISTORY_ROWS),
    sharedUsers: opts.sharedUsers,
    speed: opts.speed ?? 1,
    liveSessions: opts.liveSessions ?? true,
    latencyMs: opts.latencyMs ?? 0,
    serverName: opts.serverName ?? 'Komandorr Sim',
    log: opts.log ?? false,
    startTime: opts.startTime ?? DEFAULT_START_TIME,
    monotonicNow: opts.monotonicNow ?? (() => performance.now()),
  }
  checkInteger('port', resolved.port, 0, 65535)
  checkInteger('seed', resolved.seed, -(2 ** 31), 2 ** 32 - 1)
  checkInteger('items', resolved.items, 0, MAX_ITEMS)
  checkInteger('historyRows', resolved.historyRows, 0, MAX_HISTORY_ROWS)
  if (resolved.sharedUsers !== undefined) checkInteger('sharedUsers', resolved.sharedUsers, 0, 1000)
  checkInteger('startTime', resolved.startTime, 1, 2 ** 32 - 1)
  if (!Number.isFinite(resolved.speed) || resolved.speed < 0)
    throw new Error(`simulator option speed ${resolved.speed} must be a number >= 0`)
  if (!Number.isFinite(resolved.latencyMs) || resolved.latencyMs < 0)
    throw new Error(`simulator option latencyMs ${resolved.latencyMs} must be a number >= 0`)
  if (resolved.token.length === 0) throw new Error('simulator option token must not be empty')
  return resolved
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`simulator option ${name} ${value} must be an integer from ${min} to ${max}`)
  }
}

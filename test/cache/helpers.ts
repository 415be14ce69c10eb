import {
  createCacheRegistry,
  ManualClock,
  type CacheDeclaration,
  type CacheLogger,
  type CacheRegistry,
  type CacheRegistryOptions,
} from '../../src/cache/index.js'

export interface Deferred<T = void> {
  promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** A stand-in upstream: counts calls, can be held at a gate, can be made to fail. */
export class Upstream<V = { version: number }, A = void> {
  calls = 0
  readonly args: A[] = []
  readonly signals: AbortSignal[] = []
  gate: Deferred | undefined
  failing: Error | undefined

  constructor(private readonly produce: (call: number, args: A) => V = (call) => ({ version: call }) as V) {}

  readonly load = async (args: A, signal: AbortSignal): Promise<V> => {
    const call = ++this.calls
    this.args.push(args)
    this.signals.push(signal)
    if (this.gate !== undefined) await this.gate.promise
    if (this.failing !== undefined) throw this.failing
    return this.produce(call, args)
  }
}

export function setup(options: CacheRegistryOptions = {}): { clock: ManualClock; registry: CacheRegistry } {
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock()
  const registry = createCacheRegistry({ random: () => 0, ...options, clock })
  return { clock, registry }
}

/** `setup()` with one plex_sessions cache (10 s TTL unless `policy` says otherwise) over a fresh Upstream. */
export function sessionsOverUpstream(
  policy: Partial<CacheDeclaration<{ version: number }>> = {},
  options: CacheRegistryOptions = {},
) {
  const { clock, registry } = setup(options)
  const upstream = new Upstream()
  const sessions = registry.define({
    name: 'plex_sessions',
    key: 'plex:sessions',
    ttlMs: 10_000,
    ...policy,
    load: upstream.load,
  })
  return { clock, registry, upstream, sessions }
}

export interface LogLine {
  level: 'info' | 'debug' | 'warn' | 'error'
  fields: Record<string, unknown>
  message: string
}

export function recordingLogger(debug = true): CacheLogger & { lines: LogLine[] } {
  const lines: LogLine[] = []
  const at =
    (level: LogLine['level']) =>
    (fields: object, message: string): void => {
      lines.push({ level, fields: fields as Record<string, unknown>, message })
    }
  return {
    lines,
    info: at('info'),
    debug: at('debug'),
    warn: at('warn'),
    error: at('error'),
    isLevelEnabled: (level) => level !== 'debug' || debug,
  }
}

// Reading PMS objects whose types drift between endpoints, versions and formats (XML sends every
// attribute as a string; JSON sends numbers, "numeric strings", booleans or 0/1). Values are coerced
// on read; what cannot be coerced is rejected with a PlexResponseError naming the endpoint and the
// exact field path, e.g. `Plex /status/sessions: Metadata[2].viewOffset is "abc", not a number`.
import { PlexResponseError } from './errors.js'

type Raw = Record<string, unknown>

const NUMERIC = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value))
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

function isObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * A view of one PMS object at `path` inside the reply of `endpoint`. Paths are written the way the
 * reply reads: `Metadata[2].Player.state` for items, `MediaContainer.totalSize` for the container.
 */
export class Fields {
  constructor(
    readonly endpoint: string,
    readonly path: string,
    readonly raw: Raw,
    /** Set on the container itself: names its own fields (`MediaContainer.size`) but not its children's. */
    private readonly containerKey?: string,
  ) {}

  static root(endpoint: string, body: unknown, containerKey = 'MediaContainer'): Fields {
    const container = isObject(body) ? body[containerKey] : undefined
    if (!isObject(container)) throw new PlexResponseError(endpoint, `the reply has no ${containerKey} object`)
    return new Fields(endpoint, '', container, containerKey)
  }

  /** Path of a field of this object, as named in error messages. */
  private at(name: string): string {
    if (this.path) return `${this.path}.${name}`
    return this.containerKey ? `${this.containerKey}.${name}` : name
  }

  /** Path of a child object or list of this object. */
  private childPath(name: string): string {
    return this.path ? `${this.path}.${name}` : name
  }

  fail(name: string, problem: string): never {
    throw new PlexResponseError(this.endpoint, `${this.at(name)} ${problem}`)
  }

  has(name: string): boolean {
    const v = this.raw[name]
    return v !== undefined && v !== null
  }

  optNum(name: string): number | undefined {
    const v = this.raw[name]
    if (v === undefined || v === null || v === '') return undefined
    if (typeof v === 'number' && Number.isFinite(v)) return v
    if (typeof v === 'string' && NUMERIC.test(v.trim())) return Number(v)
    return this.fail(name, `is ${show(v)}, not a number`)
  }

  num(name: string): number {
    return this.optNum(name) ?? this.fail(name, 'is missing')
  }

  optBool(name: string): boolean | undefined {
    const v = this.raw[name]
    if (v === undefined || v === null || v === '') return undefined
    if (v === true || v === 1 || v === '1' || v === 'true') return true
    if (v === false || v === 0 || v === '0' || v === 'false') return false
    return this.fail(name, `is ${show(v)}, not a flag`)
  }

  bool(name: string, fallback: boolean): boolean {
    return this.optBool(name) ?? fallback
  }

  /** Text; numbers are accepted and turned into their decimal text (PMS sends `videoResolution: 1080`). */
  optStr(name: string): string | undefined {
    const v = this.raw[name]
    if (v === undefined || v === null) return undefined
    if (typeof v === 'string') return v
    if (typeof v === 'number' && Number.isFinite(v)) return String(v)
    return this.fail(name, `is ${show(v)}, not text`)
  }

  str(name: string): string {
    return this.optStr(name) ?? this.fail(name, 'is missing')
  }

  /** Identifiers such as ratingKey: a string, or an integer some versions send instead. Empty → undefined. */
  optKey(name: string): string | undefined {
    const v = this.raw[name]
    if (v === undefined || v === null || v === '') return undefined
    if (typeof v === 'string') return v
    if (typeof v === 'number' && Number.isInteger(v)) return String(v)
    return this.fail(name, `is ${show(v)}, not an identifier`)
  }

  key(name: string): string {
    return this.optKey(name) ?? this.fail(name, 'is missing')
  }

  /** A single child object (User, Player, Session, ...). */
  optChild(name: string): Fields | undefined {
    const v = this.raw[name]
    if (v === undefined || v === null) return undefined
    // Some converters wrap single children in a one-element array.
    const obj = Array.isArray(v) && v.length === 1 ? v[0] : v
    if (!isObject(obj)) return this.fail(name, `is ${show(v)}, not an object`)
    return new Fields(this.endpoint, this.childPath(name), obj)
  }

  child(name: string): Fields {
    return this.optChild(name) ?? this.fail(name, 'is missing')
  }

  /** An array of child objects; a missing key is an empty list (PMS omits empty arrays). */
  list(name: string): Fields[] {
    const v = this.raw[name]
    if (v === undefined || v === null) return []
    const items = Array.isArray(v) ? v : [v]
    return items.map((item, i) => {
      const path = `${this.childPath(name)}[${i}]`
      if (!isObject(item)) throw new PlexResponseError(this.endpoint, `${path} is ${show(item)}, not an object`)
      return new Fields(this.endpoint, path, item)
    })
  }

  /** The `tag` of every entry of a tag list such as Genre[]. */
  tags(name: string): string[] {
    return this.list(name).map((t) => t.str('tag'))
  }
}

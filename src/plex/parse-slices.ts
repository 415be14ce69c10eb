// How a parsed body crosses from the parse worker to the main thread without one long stop: a
// PMS document is `{Container: {attributes…, List: [items…]}}`, so the worker sends the container
// with its lists emptied, then the lists' items as JSON text in slices of about SLICE_CHARS, one
// slice per request from the main thread. JSON.parse of one slice takes a few ms there, and the
// event loop runs between slices (a structured clone of the whole 13 MB document took 2.6 s).

/** One message of a parsed body: the head (first), then items to append to `head[root][key]`. */
export type BodyPart =
  { readonly json: string; readonly key?: undefined } | { readonly json: string; readonly key: string }

export const SLICE_CHARS = 64 * 1024

type JsonObject = Record<string, unknown>

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The parts of `value`, head first; a value of another shape goes whole, as the head. */
export function* bodyParts(value: unknown): Generator<BodyPart> {
  const rootKey = isObject(value) ? soleKey(value) : undefined
  const container = rootKey === undefined ? undefined : (value as JsonObject)[rootKey]
  if (rootKey === undefined || !isObject(container)) {
    yield { json: JSON.stringify(value) ?? 'null' }
    return
  }
  const head: JsonObject = {}
  const lists: Array<[string, unknown[]]> = []
  for (const [key, field] of Object.entries(container)) {
    if (Array.isArray(field) && field.length > 0) {
      head[key] = []
      lists.push([key, field])
    } else {
      head[key] = field
    }
  }
  yield { json: JSON.stringify({ [rootKey]: head }) }
  for (const [key, items] of lists) {
    let slice: string[] = []
    let chars = 0
    for (const item of items) {
      const json = JSON.stringify(item) ?? 'null'
      slice.push(json)
      chars += json.length
      if (chars >= SLICE_CHARS) {
        yield { key, json: `[${slice.join(',')}]` }
        slice = []
        chars = 0
      }
    }
    if (slice.length > 0) yield { key, json: `[${slice.join(',')}]` }
  }
}

/** Rebuilds the value from its parts as they arrive. */
export class BodyAssembler {
  private value: unknown
  private container: JsonObject | undefined

  add(part: BodyPart): void {
    const parsed: unknown = JSON.parse(part.json)
    if (part.key === undefined) {
      this.value = parsed
      const rootKey = isObject(parsed) ? soleKey(parsed) : undefined
      const container = rootKey === undefined ? undefined : (parsed as JsonObject)[rootKey]
      this.container = isObject(container) ? container : undefined
      return
    }
    const list = this.container?.[part.key]
    if (!Array.isArray(list) || !Array.isArray(parsed))
      throw new Error(`a slice for "${part.key}" arrived without its list`)
    for (const item of parsed) list.push(item)
  }

  result(): unknown {
    return this.value
  }
}

function soleKey(value: JsonObject): string | undefined {
  let found: string | undefined
  for (const key in value) {
    if (found !== undefined) return undefined
    found = key
  }
  return found
}

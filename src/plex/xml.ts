// PMS answers XML unless asked for JSON, and plex.tv answers XML only. This turns a PMS-style XML
// document into the object PMS would have sent as JSON, so one set of parsers reads both:
// item elements (Video, Track, Photo, item Directory) of the container become `Metadata[]`,
// User/Player/Session/TranscodeSession/Context are single objects, other children are arrays.
// Attribute values stay text; the field readers in coerce.ts convert them.
import { XMLParser } from 'fast-xml-parser'

type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string> }
type JsonNode = Record<string, unknown>

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
})

const SINGLE_CHILDREN = new Set(['User', 'Player', 'Session', 'TranscodeSession', 'Context', 'Response'])
const ITEM_ELEMENTS = new Set(['Video', 'Track', 'Photo', 'Episode', 'Movie'])

function nameOf(node: OrderedNode): string | undefined {
  return Object.keys(node).find((k) => k !== ':@' && !k.startsWith('#'))
}

// A Directory is an item (show, season, album...) unless it is a library section (those carry
// `agent`/`scanner`) or a plain navigation entry such as the children of `GET /` (no `type`).
function isItemDirectory(attrs: Record<string, string>): boolean {
  if (attrs.ratingKey !== undefined) return true
  return attrs.type !== undefined && attrs.agent === undefined && attrs.scanner === undefined
}

function convert(node: OrderedNode, name: string, top: boolean): JsonNode {
  const out: JsonNode = { ...(node[':@'] ?? {}) }
  const children = node[name]
  if (!Array.isArray(children)) return out
  for (const child of children as OrderedNode[]) {
    const childName = nameOf(child)
    if (!childName) continue
    const attrs = child[':@'] ?? {}
    const isItem = top && (ITEM_ELEMENTS.has(childName) || (childName === 'Directory' && isItemDirectory(attrs)))
    const key = isItem ? 'Metadata' : childName
    const value = convert(child, childName, false)
    if (SINGLE_CHILDREN.has(key)) out[key] = value
    else ((out[key] ??= []) as JsonNode[]).push(value)
  }
  return out
}

/** `{ [rootName]: {...} }` in PMS JSON shape, or undefined when the text is not XML. */
export function xmlToPlexJson(text: string): JsonNode | undefined {
  let doc: unknown
  try {
    doc = parser.parse(text)
  } catch {
    return undefined
  }
  if (!Array.isArray(doc)) return undefined
  const root = (doc as OrderedNode[]).find((n) => nameOf(n) !== undefined)
  const rootName = root && nameOf(root)
  if (!root || !rootName) return undefined
  return { [rootName]: convert(root, rootName, true) }
}

/**
 * One tree, two wire formats. PMS answers XML by default and JSON on
 * `Accept: application/json`; both are a MediaContainer, but the JSON side renames
 * item elements to `Metadata[]`, keeps `User`/`Player`/`Session`/`TranscodeSession`
 * as single objects and every other child as an array. Attribute values carry their
 * JSON type (that is where the type drift between endpoints lives); in XML every
 * attribute is a string and booleans become "1"/"0".
 */
export type AttrValue = string | number | boolean | undefined
export type Attrs = Record<string, AttrValue>

export interface El {
  tag: string
  attrs: Attrs
  children?: El[]
  /** Key in JSON when it differs from the XML tag (`Video` → `Metadata`). */
  jsonKey?: string
  /** Rendered as a single object in JSON rather than an array element. */
  single?: boolean
}

export type Format = 'xml' | 'json'

export function el(tag: string, attrs: Attrs, children?: El[]): El {
  return children && children.length > 0 ? { tag, attrs, children } : { tag, attrs }
}

/** An item element: `Video`, `Track`, `Photo` or item `Directory` in XML, `Metadata` in JSON. */
export function item(tag: string, attrs: Attrs, children?: El[]): El {
  const node = el(tag, attrs, children)
  node.jsonKey = 'Metadata'
  return node
}

export function single(tag: string, attrs: Attrs): El {
  return { tag, attrs, single: true }
}

export function render(container: El, format: Format): string {
  return format === 'json' ? renderJson(container) : renderXml(container)
}

export function renderJson(container: El): string {
  // toJson + JSON.stringify measured twice as fast as writing JSON by hand here.
  return `{"${container.tag}":${JSON.stringify(toJson(container))}}`
}

/** The JSON object PMS would send for one element (notifications embed these). */
export function toJson(node: El): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key in node.attrs) {
    const v = node.attrs[key]
    if (v !== undefined) out[key] = v
  }
  if (node.children) {
    for (const child of node.children) {
      const key = child.jsonKey ?? child.tag
      if (child.single) {
        out[key] = toJson(child)
      } else {
        const list = out[key] as unknown[] | undefined
        if (list) list.push(toJson(child))
        else out[key] = [toJson(child)]
      }
    }
  }
  return out
}

export function renderXml(container: El): string {
  const parts: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n']
  writeXml(container, parts)
  return parts.join('')
}

function writeXml(node: El, parts: string[]): void {
  let open = '<' + node.tag
  for (const key in node.attrs) {
    const v = node.attrs[key]
    if (v === undefined) continue
    open += ' ' + key + '="' + xmlAttr(v) + '"'
  }
  if (!node.children || node.children.length === 0) {
    // PMS writes an empty container as an open/close pair, leaf elements self-closed.
    parts.push(node.tag === 'MediaContainer' ? open + '>\n</MediaContainer>\n' : open + ' />\n')
    return
  }
  parts.push(open + '>\n')
  for (const child of node.children) writeXml(child, parts)
  parts.push('</' + node.tag + '>\n')
}

const XML_SPECIAL = /[&<>"'\n\r\t]/

function xmlAttr(v: string | number | boolean): string {
  if (typeof v === 'boolean') return v ? '1' : '0'
  if (typeof v === 'number') return String(v)
  if (!XML_SPECIAL.test(v)) return v
  return v
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;')
}

export function countItems(container: El): number {
  return container.children?.length ?? 0
}

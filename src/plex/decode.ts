// Turns a reply body into the PMS JSON shape: JSON as is, XML through xml.ts. Nesting deeper than
// MAX_NESTING is refused before parsing (PMS replies nest about ten levels; a hostile reply of
// millions of levels cost a gigabyte of heap in the parser). Runs inline for small bodies and in
// the parse worker for large ones (parse-pool.ts); both call this.
import { xmlToPlexJson } from './xml.js'

export const MAX_NESTING = 64

export type BodyFormat = 'json' | 'xml'

/** What the body claims to be: JSON by content type or by its first character, else XML. */
export function formatOf(contentType: string, text: string): BodyFormat {
  return /json/i.test(contentType) || (!/xml|html/i.test(contentType) && /^\s*[{[]/.test(text.slice(0, 64)))
    ? 'json'
    : 'xml'
}

/** The parsed body, or a problem that reads like `the reply is not valid JSON (…)`. */
export function decodeBody(text: string, contentType: string): { value: unknown } | { problem: string } {
  const format = formatOf(contentType, text)
  const depth = nestingDepth(text, format)
  if (depth > MAX_NESTING)
    return {
      problem: `the reply nests ${depth} levels or more, deeper than the ${MAX_NESTING} allowed; it was not parsed`,
    }
  if (format === 'json') {
    try {
      return { value: JSON.parse(text) }
    } catch {
      return { problem: `the reply is not valid JSON (${text.length} bytes, ${contentType || 'no content-type'})` }
    }
  }
  const xml = text.trimStart().startsWith('<') ? xmlToPlexJson(text) : undefined
  if (!xml) return { problem: `the reply is neither JSON nor XML (${contentType || 'no content-type'})` }
  return { value: xml }
}

/**
 * How deep the document nests, counted without parsing it; stops counting once past
 * MAX_NESTING. JSON: brackets outside strings. XML: open tags minus close tags (comments,
 * declarations and CDATA skipped), self-closing tags not counted.
 */
export function nestingDepth(text: string, format: BodyFormat): number {
  return format === 'json' ? jsonDepth(text) : xmlDepth(text)
}

function jsonDepth(text: string): number {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max && (max = depth) > MAX_NESTING) return max
    } else if (c === 0x5d || c === 0x7d) {
      depth--
    }
  }
  return max
}

function xmlDepth(text: string): number {
  let depth = 0
  let max = 0
  let i = text.indexOf('<')
  while (i !== -1 && i < text.length) {
    const next = text.charCodeAt(i + 1)
    if (next === 0x21 /* ! */) {
      const closer = text.startsWith('<!--', i) ? '-->' : text.startsWith('<![CDATA[', i) ? ']]>' : '>'
      const end = text.indexOf(closer, i + 2)
      if (end === -1) break
      i = text.indexOf('<', end + closer.length)
      continue
    }
    const end = tagEnd(text, i + 1)
    if (end === -1) break
    if (next === 0x2f /* / */) depth--
    else if (next !== 0x3f /* ? */ && text.charCodeAt(end - 1) !== 0x2f) {
      if (++depth > max && (max = depth) > MAX_NESTING) return max
    }
    i = text.indexOf('<', end + 1)
  }
  return max
}

/** The index of the `>` closing the tag that starts before `from`, skipping quoted attribute values. */
function tagEnd(text: string, from: number): number {
  let quote = 0
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (quote !== 0) {
      if (c === quote) quote = 0
    } else if (c === 0x22 || c === 0x27) {
      quote = c
    } else if (c === 0x3e) {
      return i
    }
  }
  return -1
}

// Small builders for the JSON Schemas (OpenAPI 3.1) that document the service's answers: the
// cache declarations describe their values with them, the HTTP layer everything else.

export type JsonSchema = Record<string, unknown>

export const str: JsonSchema = { type: 'string' }
export const int: JsonSchema = { type: 'integer' }
export const num: JsonSchema = { type: 'number' }
export const bool: JsonSchema = { type: 'boolean' }
export const dateTime: JsonSchema = { type: 'string', format: 'date-time' }
/** Any JSON value (e.g. a Plex object passed through as Plex sent it). */
export const anyJson: JsonSchema = {}
export const nullable = (type: string, extra: JsonSchema = {}): JsonSchema => ({ type: [type, 'null'], ...extra })
export const arrayOf = (items: JsonSchema): JsonSchema => ({ type: 'array', items })
export const emptyArray: JsonSchema = { type: 'array', maxItems: 0 }

/** An object with exactly these properties; all required unless listed in `optional`. */
export function object(
  properties: Record<string, JsonSchema>,
  optional: readonly string[] = [],
  description?: string,
): JsonSchema {
  return {
    type: 'object',
    ...(description === undefined ? {} : { description }),
    properties,
    required: Object.keys(properties).filter((name) => !optional.includes(name)),
    additionalProperties: false,
  }
}

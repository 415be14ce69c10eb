import { Ajv, type Options } from 'ajv'
import type { FastifySchemaCompiler } from 'fastify'

// Query strings and path parameters arrive as text, so they are coerced ("50" → 50); a JSON
// body is not: `{"peak_concurrent": "5"}` is a client bug and gets a 400 naming the field.
const shared: Options = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false }
const coercing = new Ajv({ ...shared, coerceTypes: 'array' })
const strictTypes = new Ajv({ ...shared, coerceTypes: false })

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? strictTypes : coercing).compile(schema)

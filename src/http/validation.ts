import { Ajv, type ErrorObject, type Options } from 'ajv'
import type { FastifySchemaCompiler } from 'fastify'

// Query strings and path parameters arrive as text, so they are coerced ("50" → 50); a JSON
// body is not: `{"peak_concurrent": "5"}` is a client bug and gets a 400 naming the field.
// strictNumbers refuses NaN and Infinity (a JSON `1e400` parses to Infinity).
// verbose: an error carries the value, so a non-finite one can be told as such.
const shared: Options = {
  allErrors: false,
  useDefaults: true,
  removeAdditional: false,
  strict: false,
  strictNumbers: true,
  verbose: true,
}
const coercing = new Ajv({ ...shared, coerceTypes: 'array' })
const strictTypes = new Ajv({ ...shared, coerceTypes: false })

export const NOT_FINITE = 'must be a finite number'

type Validate = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null }

export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
  if (httpPart === 'body') return strictTypes.compile(schema)
  return refuseCoercedNonFinite(coercing.compile(schema))
}

/**
 * Ajv checks finiteness before coercing text, not after: `?offset=Infinity` or `?limit=1e400`
 * would pass as Infinity, past `maximum`. Query strings and path parameters are flat, so one
 * look at each coerced value closes that gap.
 */
function refuseCoercedNonFinite(validate: Validate): Validate {
  const checked: Validate = (data) => {
    if (!validate(data)) {
      checked.errors = validate.errors
      return false
    }
    const field =
      data !== null && typeof data === 'object'
        ? Object.entries(data).find(([, value]) => typeof value === 'number' && !Number.isFinite(value))?.[0]
        : undefined
    if (field === undefined) return true
    checked.errors = [
      {
        instancePath: `/${field}`,
        schemaPath: '#/type',
        keyword: 'type',
        params: { type: 'number' },
        message: NOT_FINITE,
      },
    ]
    return false
  }
  return checked
}

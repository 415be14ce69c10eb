/** The database cannot be used now (PostgreSQL not reached yet, or lost): a 503, never a 500. */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError'
}

// Node's socket errors, and PostgreSQL's connection-exception (08…) and shutdown (57P0…) classes.
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
])
const UNREACHABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly/i

/** True for an error that says the database is out of reach rather than that a query was wrong. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true
  if (!(error instanceof Error)) return false
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || code.startsWith('08') || code.startsWith('57P0')))
    return true
  if (error instanceof AggregateError) return error.errors.some(isDatabaseUnavailable)
  return UNREACHABLE_MESSAGES.test(error.message)
}

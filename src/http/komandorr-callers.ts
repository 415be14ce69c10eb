import type { KomandorrCallers, KomandorrVerdict } from '../features/komandorr-upstream/verdicts.js'
import type { Caller, CallerCheck } from './auth.js'
import { HttpError } from './http-error.js'

/**
 * In front of Komandorr, the service's own routes (Plex, cache management, metrics) accept whom
 * Komandorr accepts, as the admin: one login serves the whole dashboard, and Komandorr's auth
 * never leaves the Plex routes open. Credentials Komandorr cannot be asked about (it is down and
 * has no remembered verdict on them) are a 503 with `detail`, not a 401 that logs the UI out.
 */
export function komandorrCallerCheck(callers: KomandorrCallers): CallerCheck {
  const callerOf = (verdict: KomandorrVerdict, authorization: string | undefined): Caller =>
    verdict === 'accepted' ? { admin: true } : authorization === undefined ? 'missing' : 'wrong'
  return {
    async identify(authorization) {
      const now = callers.verdictNow(authorization)
      if (now !== undefined) return callerOf(now, authorization)
      try {
        return callerOf(await callers.verdict(authorization), authorization)
      } catch (error) {
        throw new HttpError(
          503,
          `Could not check the credentials with Komandorr: ${error instanceof Error ? error.message : String(error)}`,
        )
      }
    },
    identifyNow(authorization) {
      const now = callers.verdictNow(authorization)
      return now === undefined ? 'unknown' : callerOf(now, authorization)
    },
  }
}

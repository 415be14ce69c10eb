import { HttpError } from '../../http/http-error.js'

/**
 * What a write that only a Komandorr backend can carry out gets in standalone mode (configuring an
 * integration, creating or redeeming an invite): a 409, the request being fine but this service
 * holding no Komandorr to carry it out.
 */
export const NEEDS_KOMANDORR_STATUS = 409

export function needsKomandorr(what: string): HttpError {
  return new HttpError(
    NEEDS_KOMANDORR_STATUS,
    `${what} needs a Komandorr backend: set KOMANDORR_URL (e.g. http://komandorr:8000) to put this service in front of one`,
  )
}

/** Auth is the service's own environment here, not something the dashboard can change. */
export function authFromEnvironment(): HttpError {
  return new HttpError(
    NEEDS_KOMANDORR_STATUS,
    'Authentication is set in the environment of this service (ENABLE_AUTH, AUTH_USERNAME, AUTH_PASSWORD); restart it to change them',
  )
}

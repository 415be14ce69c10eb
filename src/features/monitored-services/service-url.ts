import { isIP } from 'node:net'
import { hostname, networkInterfaces } from 'node:os'

/** A service URL that cannot be checked; the message says why. */
export class ServiceUrlError extends Error {
  override name = 'ServiceUrlError'
}

/** What a check requests: the URL without `user:pass@` (fetch refuses those), sent as Basic auth. */
export interface CheckTarget {
  readonly href: string
  readonly authorization?: string
}

/**
 * The one reading of a service URL, used both before storing it and by every check, so a URL
 * that was stored can always be checked: http(s), a host, and credentials that percent-decode.
 */
export function checkTarget(value: string): CheckTarget {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ServiceUrlError('is not a URL')
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '')
    throw new ServiceUrlError('is not an http(s) URL')
  if (url.username === '' && url.password === '') return { href: url.href }
  let user: string
  let password: string
  try {
    user = decodeURIComponent(url.username)
    password = decodeURIComponent(url.password)
  } catch {
    throw new ServiceUrlError('has a user name or password that is not valid percent-encoding')
  }
  url.username = ''
  url.password = ''
  return { href: url.href, authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` }
}

/**
 * True when `value` names this very process: its port on a loopback or wildcard address, on one
 * of this machine's addresses, or on its host name. Monitoring itself turns every round into
 * requests to itself (300 such services made 39 s rounds). A DNS name that happens to resolve
 * here is not caught; the round deadline bounds that case.
 */
export function pointsAtSelf(value: string, ownPort: number): boolean {
  const url = new URL(value)
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port)
  if (port !== ownPort) return false
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (host === 'localhost' || host.endsWith('.localhost') || host === hostname().toLowerCase()) return true
  if (isIP(host) === 0) return false
  if (
    /^127\./.test(host) ||
    host === '0.0.0.0' ||
    host === '::' ||
    host === '::1' ||
    /^::ffff:(127\.|0\.0\.0\.0$|7f)/.test(host)
  )
    return true
  return Object.values(networkInterfaces()).some((addresses) =>
    addresses?.some((address) => address.address.toLowerCase() === host),
  )
}

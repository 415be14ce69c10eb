import type { ServiceStatus } from './types.js'

export interface CheckOutcome {
  readonly status: ServiceStatus
  /** Time to the response headers; null when no answer came. */
  readonly responseTimeMs: number | null
}

/** Checks one URL; rejects only when `signal` (the caller stopping) aborted it. */
export type ServiceCheck = (url: string, options: { timeoutMs: number; signal?: AbortSignal }) => Promise<CheckOutcome>

/**
 * GET the URL, following redirects: an answer below 400 is online, 400 and up or no answer in
 * time is a problem, a failed connection (refused, DNS, TLS) is offline.
 */
export const checkUrl: ServiceCheck = async (url, { timeoutMs, signal }) => {
  const timeout = AbortSignal.timeout(timeoutMs)
  const { href, authorization } = splitCredentials(url)
  const started = performance.now()
  try {
    const response = await fetch(href, {
      redirect: 'follow',
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      headers: { 'user-agent': 'komandorr-cache-monitor', ...(authorization && { authorization }) },
    })
    const responseTimeMs = Math.round((performance.now() - started) * 10) / 10
    await response.body?.cancel().catch(() => undefined)
    return { status: response.status < 400 ? 'online' : 'problem', responseTimeMs }
  } catch (error) {
    if (signal?.aborted) throw error
    return { status: timeout.aborted ? 'problem' : 'offline', responseTimeMs: null }
  }
}

/** fetch refuses URLs with `user:pass@`; send them as Basic auth instead. */
function splitCredentials(url: string): { href: string; authorization?: string } {
  const parsed = new URL(url)
  if (parsed.username === '' && parsed.password === '') return { href: url }
  const user = decodeURIComponent(parsed.username)
  const password = decodeURIComponent(parsed.password)
  parsed.username = ''
  parsed.password = ''
  return { href: parsed.href, authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` }
}

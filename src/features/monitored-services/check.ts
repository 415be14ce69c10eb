import { checkTarget, type CheckTarget } from './service-url.js'
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
 * time is a problem, a failed connection (refused, DNS, TLS) is offline. A URL that cannot be
 * requested at all (a row stored before URLs were checked) is a problem; it never throws for it.
 */
export const checkUrl: ServiceCheck = async (url, { timeoutMs, signal }) => {
  let target: CheckTarget
  try {
    target = checkTarget(url)
  } catch {
    return { status: 'problem', responseTimeMs: null }
  }
  const timeout = AbortSignal.timeout(timeoutMs)
  const started = performance.now()
  try {
    const response = await fetch(target.href, {
      redirect: 'follow',
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      headers: {
        'user-agent': 'komandorr-cache-monitor',
        ...(target.authorization && { authorization: target.authorization }),
      },
    })
    const responseTimeMs = Math.round((performance.now() - started) * 10) / 10
    await response.body?.cancel().catch(() => undefined)
    return { status: response.status < 400 ? 'online' : 'problem', responseTimeMs }
  } catch (error) {
    if (signal?.aborted) throw error
    return { status: timeout.aborted ? 'problem' : 'offline', responseTimeMs: null }
  }
}

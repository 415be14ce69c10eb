import type { Registry } from 'prom-client'
import type { LoginLimitCounts } from '../http/login-limits.js'
import { registerSnapshot } from './snapshot-metric.js'

/** What the bounds on failed sign-ins did (`LoginLimits`): password checks run, sign-ins refused without one. */
export function registerLoginMetrics(registry: Registry, counts: () => LoginLimitCounts): void {
  registerSnapshot(registry, {
    name: 'login_password_checks_total',
    help: 'Password checks (scrypt) run for Basic sign-ins not known already.',
    type: 'counter',
    read: () => [{ labels: {}, value: counts().checks }],
  })
  registerSnapshot(registry, {
    name: 'login_refusals_total',
    help: 'Sign-ins refused without a password check: credentials that failed within LOGIN_FAILURE_WINDOW (known_failure), or failures used up (throttled, a 429).',
    type: 'counter',
    read: () => {
      const { refusedKnownFailures, refusedThrottled } = counts()
      return [
        { labels: { reason: 'known_failure' }, value: refusedKnownFailures },
        { labels: { reason: 'throttled' }, value: refusedThrottled },
      ]
    },
  })
}

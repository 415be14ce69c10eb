/**
 * What Komandorr answers for its integrations while they are not configured, the only state they
 * can have without a Komandorr backend: each GET path with its fixed body (read from each
 * integration's not-configured branch in Komandorr's `backend/app/api`).
 */
export interface FixedAnswer {
  readonly path: string
  readonly body: unknown
}

const notConnected = { connected: false, error: 'Not configured' }
const noJobs = { jobs: [], not_configured: true }
const noPagedJobs = { jobs: [], total: 0, not_configured: true }
const noCount = { count: 0, not_configured: true }
const notConfiguredFlag = { not_configured: true }
const notConfiguredError = { error: 'Not configured' }

export const UPLOADER_ANSWERS: readonly FixedAnswer[] = [
  { path: '/api/uploader/status', body: notConnected },
  { path: '/api/uploader/queue', body: { files: [], not_configured: true } },
  { path: '/api/uploader/inprogress', body: noJobs },
  { path: '/api/uploader/completed', body: noPagedJobs },
  { path: '/api/uploader/queue_stats', body: noCount },
  { path: '/api/uploader/completed_today_stats', body: noCount },
  { path: '/api/uploader/failed', body: noPagedJobs },
  { path: '/api/uploader/failed_count', body: noCount },
]

/** Sonarr and Radarr: no instance configured, so every per-instance map is empty. */
export const ARR_ANSWERS: readonly FixedAnswer[] = [
  { path: '/api/arr-activity/queue', body: {} },
  {
    path: '/api/arr-activity/queue/status',
    body: { instances: {}, combined: { totalCount: 0, errors: false, warnings: false } },
  },
  { path: '/api/arr-activity/history', body: {} },
  { path: '/api/arr-activity/system/status', body: {} },
]

export const VPN_PROXY_ANSWERS: readonly FixedAnswer[] = [
  { path: '/api/vpn-proxy/status', body: notConnected },
  { path: '/api/vpn-proxy/containers', body: [] },
  { path: '/api/vpn-proxy/containers/vpn-info-batch', body: {} },
  { path: '/api/vpn-proxy/containers/dependents', body: [] },
  { path: '/api/vpn-proxy/containers/:containerId', body: notConfiguredError },
  { path: '/api/vpn-proxy/containers/:containerId/vpn-info', body: notConfiguredError },
  { path: '/api/vpn-proxy/system/docker-status', body: notConfiguredError },
  { path: '/api/vpn-proxy/monitoring/status', body: { configured: false } },
  { path: '/api/vpn-proxy/monitoring', body: {} },
  { path: '/api/vpn-proxy/monitoring/network-usage', body: {} },
]

export const POSTERIZARR_ANSWERS: readonly FixedAnswer[] = [
  { path: '/api/posterizarr/status', body: notConnected },
  { path: '/api/posterizarr/dashboard', body: notConfiguredFlag },
  { path: '/api/posterizarr/system-info', body: notConfiguredFlag },
  { path: '/api/posterizarr/version', body: notConfiguredFlag },
  { path: '/api/posterizarr/execution-status', body: notConfiguredFlag },
  { path: '/api/posterizarr/scheduler', body: notConfiguredFlag },
  { path: '/api/posterizarr/runtime-history', body: { not_configured: true, runs: [] } },
  { path: '/api/posterizarr/assets/overview', body: notConfiguredFlag },
  { path: '/api/posterizarr/assets/stats', body: notConfiguredFlag },
  { path: '/api/posterizarr/plex-export/statistics', body: notConfiguredFlag },
  { path: '/api/posterizarr/plex-export/runs', body: null },
]

/**
 * Overseerr. Komandorr answers its user and request lists with a 503 while it is not configured,
 * which the VOD portal page requests on every visit and logs as failed; here they answer what a
 * configured Overseerr with nobody in it gives, and the status route says it is not configured.
 */
export const OVERSEERR_ANSWERS: readonly FixedAnswer[] = [
  {
    path: '/api/overseerr/status',
    body: { configured: false, reachable: false, message: 'Overseerr is not configured' },
  },
  { path: '/api/overseerr/users', body: { success: true, users: [], total: 0 } },
  { path: '/api/overseerr/requests', body: { requests: [], total: 0 } },
]

export const TELEGRAM_ANSWERS: readonly FixedAnswer[] = [
  {
    path: '/api/notifications/telegram',
    body: {
      telegram: {
        enabled: false,
        bot_token: '',
        chat_id: '',
        notify_offline: true,
        notify_problem: true,
        notify_recovery: true,
      },
    },
  },
  { path: '/api/notifications/status', body: { telegram: { enabled: false, configured: false } } },
]

/** Invites live in a Komandorr backend: with none here, the lists are empty. */
export const INVITE_ANSWERS: readonly FixedAnswer[] = [
  { path: '/api/invites/', body: [] },
  {
    path: '/api/invites/stats',
    body: {
      total_invites: 0,
      active_invites: 0,
      used_up_invites: 0,
      total_redemptions: 0,
      total_users: 0,
      active_users: 0,
    },
  },
  { path: '/api/invites/users', body: [] },
]

import { declareKomandorrCache as declare, type KomandorrCacheSpec } from './komandorr-declaration.js'

// TTLs: the shortest poll interval of any page of Komandorr's frontend (v3.3.0, frontend/src)
// for that path, so no page is shown an answer older than its own poll would be.

/** The sidebar, on every page: 5 s; the Arr activity page too. */
export const arrQueueCache = declare({
  name: 'komandorr_arr_queue',
  key: 'komandorr:arr-activity:queue',
  path: '/api/arr-activity/queue',
  ttlSeconds: 5,
})

/** The dashboard and the uploader page poll it every 2 s, the sidebar every 5 s. */
export const uploaderInProgressCache = declare({
  name: 'komandorr_uploader_inprogress',
  key: 'komandorr:uploader:inprogress',
  path: '/api/uploader/inprogress',
  ttlSeconds: 2,
})

/** The uploader page: 5 s; the sidebar: 10 s. */
export const uploaderQueueCache = declare({
  name: 'komandorr_uploader_queue',
  key: 'komandorr:uploader:queue',
  path: '/api/uploader/queue',
  ttlSeconds: 5,
})

/** The sidebar: 15 s. */
export const uploaderFailedCountCache = declare({
  name: 'komandorr_uploader_failed_count',
  key: 'komandorr:uploader:failed_count',
  path: '/api/uploader/failed_count',
  ttlSeconds: 15,
})

/** The sidebar and the invites page: 10 s. */
export const invitesCache = declare({
  name: 'komandorr_invites',
  key: 'komandorr:invites',
  path: '/api/invites/',
  ttlSeconds: 10,
})

/** The sidebar and the storage page: 30 s. */
export const storageSummaryCache = declare({
  name: 'komandorr_storage_summary',
  key: 'komandorr:storage:summary',
  path: '/api/storage/summary',
  ttlSeconds: 30,
})

/** The VPN proxy page: 10 s; the dashboard 15 s, the sidebar 30 s. */
export const vpnContainersCache = declare({
  name: 'komandorr_vpn_containers',
  key: 'komandorr:vpn-proxy:containers',
  path: '/api/vpn-proxy/containers',
  ttlSeconds: 10,
})

/** The VPN proxy page: 10 s; the dashboard 15 s. */
export const vpnInfoCache = declare({
  name: 'komandorr_vpn_info',
  key: 'komandorr:vpn-proxy:vpn-info-batch',
  path: '/api/vpn-proxy/containers/vpn-info-batch',
  ttlSeconds: 10,
})

/** The VPN proxy page: 15 s; the dashboard 20 s. */
export const vpnDependentsCache = declare({
  name: 'komandorr_vpn_dependents',
  key: 'komandorr:vpn-proxy:dependents',
  path: '/api/vpn-proxy/containers/dependents',
  ttlSeconds: 15,
})

/** The dashboard and the VPN proxy page: 30 s. */
export const vpnStatusCache = declare({
  name: 'komandorr_vpn_status',
  key: 'komandorr:vpn-proxy:status',
  path: '/api/vpn-proxy/status',
  ttlSeconds: 30,
})

/** The monitor and traffic pages: 5 s; the sidebar, dashboard and services page 10 s. */
export const servicesCache = declare({
  name: 'komandorr_services',
  key: 'komandorr:services',
  path: '/api/services/',
  ttlSeconds: 5,
  // A service added or removed shows in the traffic summary too.
  invalidatedBy: ['/api/services', '/api/traffic'],
})

/** Loaded once per dashboard, then pushed over the WebSocket; traffic agents' updates drop it. */
export const trafficSummaryCache = declare({
  name: 'komandorr_traffic_summary',
  key: 'komandorr:traffic:summary',
  path: '/api/traffic/summary',
  ttlSeconds: 10,
  invalidatedBy: ['/api/traffic', '/api/services'],
})

/** Asked on every page load and every 12 h; Komandorr asks GitHub for the latest release. */
export const versionCache = declare({
  name: 'komandorr_version',
  key: 'komandorr:version',
  path: '/api/version',
  ttlSeconds: 600,
})

/** Read when the settings page opens; its writes (and the integrations' config) drop it. */
export const settingsCache = declare({
  name: 'komandorr_settings',
  key: 'komandorr:settings',
  path: '/api/settings',
  ttlSeconds: 30,
})

/** Whether Komandorr's auth is on: asked by the login screen, and by this service before any verdict. */
export const authStatusCache = declare({
  name: 'komandorr_auth_status',
  key: 'komandorr:auth:status',
  path: '/api/auth/status',
  ttlSeconds: 10,
  open: true,
})

/** Every cached GET of Komandorr's, in the order `cache/stats` lists them. */
export const KOMANDORR_CACHES: readonly KomandorrCacheSpec[] = [
  arrQueueCache,
  uploaderInProgressCache,
  uploaderQueueCache,
  uploaderFailedCountCache,
  invitesCache,
  storageSummaryCache,
  vpnContainersCache,
  vpnInfoCache,
  vpnDependentsCache,
  vpnStatusCache,
  servicesCache,
  trafficSummaryCache,
  versionCache,
  settingsCache,
  authStatusCache,
]

import type { FastifyInstance } from 'fastify'
import { authFromEnvironment, needsKomandorr } from '../../features/komandorr-standalone/needs-komandorr.js'
import { frontendRelease } from '../../features/komandorr-standalone/version.js'
import type { LogLevel } from '../../logger.js'
import { routeDoc } from '../openapi/schemas.js'
import type { StandaloneDeps } from './komandorr-standalone-deps.js'

/** Komandorr's names for the log levels (Python's), shown on its settings page. */
const LEVEL_NAMES: Record<LogLevel, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
  silent: 'CRITICAL',
}

/** Any JSON: these answers have Komandorr's shapes, given as they are. */
const json = (description: string) => ({ description })
const doc = (summary: string, ok: string) => routeDoc('komandorr', summary, { 200: json(ok) })

/** The time zone of this process (TZ), which Komandorr's pages format dates in. */
const timezone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'

export function standaloneCoreRoutes(app: FastifyInstance, deps: StandaloneDeps): void {
  const version = frontendRelease(deps.config.frontendDir)

  // Komandorr compares with GitHub's latest release; this service makes no call to GitHub, which
  // is Komandorr's answer when GitHub is out of reach.
  app.get(
    '/api/version',
    { schema: doc('The frontend version (release.txt of FRONTEND_DIR)', '{local, remote, is_update_available}') },
    async () => ({
      local: version,
      remote: null,
      is_update_available: false,
    }),
  )

  app.get('/api/config', { schema: doc('The time zone dates are shown in', '{timezone}') }, async () => ({
    timezone: timezone(),
  }))

  app.get(
    '/api/releases',
    { schema: doc("Komandorr's releases: not read from GitHub here", '{success: false, error}') },
    async () => ({
      success: false,
      error:
        'Releases are not fetched by this service (no GitHub calls); see https://github.com/cyb3rgh05t/komandorr/releases',
    }),
  )

  // Read only: the Plex server comes from PLEX_SERVER_URL or /api/plex/config, never with its token.
  app.get(
    '/api/settings',
    { schema: doc("Komandorr's settings as this service has them (read only)", 'SettingsResponse') },
    async () => {
      const plex = deps.plex.settings
      return {
        logging: { level: LEVEL_NAMES[deps.config.logLevel], enable_file: false },
        general: { timezone: timezone() },
        api: { github_token: '', tmdb_api_key: '' },
        plex: {
          server_url: plex?.url ?? '',
          server_token: '',
          server_name: plex?.serverName ?? deps.config.plex.serverName,
        },
        overseerr: null,
        uploader: { base_url: '' },
        vpn_proxy: { url: '', api_key: '' },
        posterizarr: { url: '', api_key: '' },
        arr: null,
        external_apps: { apps: [] },
      }
    },
  )

  app.post('/api/settings', { schema: doc('Saving settings needs KOMANDORR_URL (409)', 'never') }, async () => {
    throw needsKomandorr("Saving Komandorr's settings (integrations, API keys, time zone)")
  })

  app.post('/api/auth/toggle', { schema: doc('Auth is set in the environment (409)', 'never') }, async () => {
    throw authFromEnvironment()
  })
  app.post('/api/auth/update', { schema: doc('Auth is set in the environment (409)', 'never') }, async () => {
    throw authFromEnvironment()
  })
}

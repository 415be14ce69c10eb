import type { Clock } from '../../cache/index.js'
import type { Config } from '../../config.js'
import type { ServicesRepo } from '../../db/services-repo.js'
import type { PlexSettings } from '../../plex/plex-connection.js'
import type { TrafficLog } from '../../features/traffic/traffic-log.js'

/** What the standalone routes read: configuration, the Plex server in use, services and traffic. */
export interface StandaloneDeps {
  readonly config: Pick<Config, 'komandorrUrl' | 'frontendDir' | 'logLevel' | 'database'> & {
    readonly plex: Pick<Config['plex'], 'serverName'>
  }
  readonly plex: { readonly settings: PlexSettings | undefined }
  readonly services: Pick<ServicesRepo, 'list' | 'get'>
  readonly traffic: Pick<TrafficLog, 'latest' | 'latestPerService' | 'recent' | 'onRecord'>
  readonly clock: Pick<Clock, 'wallNow'>
}

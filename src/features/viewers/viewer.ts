import type { Principal } from '../../cache/index.js'
import type { StoredViewer } from '../../db/index.js'

/**
 * A signed-in viewer: a friend the admin shares Plex with, who sees only their own streams and
 * history. As a cache principal its `id` names the account too, so a viewer deleted and made
 * again for another Plex account never meets the old account's views.
 */
export interface Viewer extends Principal {
  readonly username: string
  /** The Plex account (`accountID` of history rows, `User.id` of sessions). */
  readonly plexAccountId: number
}

export function viewerOf(stored: StoredViewer): Viewer {
  return {
    id: `viewer\0${stored.username}\0${stored.plexAccountId}`,
    username: stored.username,
    plexAccountId: stored.plexAccountId,
  }
}

/** What the API shows of a viewer: never the password or its hash. */
export interface ViewerView {
  username: string
  plex_account_id: number
  created_at: string
}

export function viewerView(stored: StoredViewer): ViewerView {
  return {
    username: stored.username,
    plex_account_id: stored.plexAccountId,
    created_at: new Date(stored.createdAt).toISOString(),
  }
}

import { el } from '../container.js'
import { containerReply, type Reply, type RequestContext } from '../http/reply.js'
import { hexString, mulberry32 } from '../random.js'

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'

/** plex.tv answers a bad token with its own XML error, not PMS's HTML page. */
export function plexTvUnauthorized(): Reply {
  return {
    status: 401,
    contentType: 'application/xml',
    body: Buffer.from(`${XML_HEAD}<errors>\n  <error>Invalid authentication token.</error>\n</errors>\n`),
    items: 0,
  }
}

/**
 * plex.tv `GET /api/servers/{machineIdentifier}/shared_servers`: one `SharedServer`
 * per shared user, XML whatever the Accept header says (this is the legacy plex.tv API).
 */
export function sharedServers(ctx: RequestContext): Reply {
  const { world } = ctx
  if (ctx.params.id !== world.machineIdentifier) {
    return {
      status: 404,
      contentType: 'application/xml',
      body: Buffer.from(`${XML_HEAD}<Response code="404" status="Server not found"/>\n`),
      items: 0,
    }
  }
  const rng = mulberry32(world.opts.seed ^ 0x5a4e)
  const sections = world.library.sections
  const shared = world.people.accounts.slice(2)
  const children = shared.map((a, i) =>
    el(
      'SharedServer',
      {
        id: 9_000_000 + i * 7 + (a.id % 7),
        username: a.name,
        email: a.email,
        userID: a.id,
        // A per-user server token, as plex.tv sends; fake, and never the admin token.
        accessToken: `shared-${hexString(rng, 20)}`,
        name: world.opts.serverName,
        acceptedAt: a.acceptedAt,
        invitedAt: a.invitedAt,
        allowSync: i % 2 === 0,
        allowCameraUpload: false,
        allowChannels: false,
        allowTuners: false,
        allowSubtitleAdmin: false,
        owned: false,
        allLibraries: i % 3 !== 2,
        filterAll: '',
        filterMovies: '',
        filterMusic: '',
        filterPhotos: '',
        filterTelevision: '',
      },
      sections.map((s) =>
        el('Section', {
          id: 100 + s.id,
          key: s.id,
          title: s.title,
          type: s.type,
          shared: i % 3 !== 2 || s.type === 'movie',
        }),
      ),
    ),
  )
  const container = el(
    'MediaContainer',
    {
      friendlyName: 'myPlex',
      identifier: 'com.plexapp.plugins.myplex',
      machineIdentifier: world.machineIdentifier,
      size: children.length,
    },
    children,
  )
  const reply = containerReply(container, 'xml')
  return { ...reply, contentType: 'application/xml' }
}

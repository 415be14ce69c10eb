import { el } from '../container.js'
import { containerReply, type Reply, type RequestContext } from '../http/reply.js'
import { avatarUrl } from '../people.js'

/** `GET /accounts`: id 0 is the system account, 1 the owner, then shared users by plex.tv id. */
export function accounts(ctx: RequestContext): Reply {
  const children = ctx.world.people.accounts.map((a) =>
    el('Account', {
      id: a.id,
      key: `/accounts/${a.id}`,
      name: a.name,
      defaultAudioLanguage: 'en',
      autoSelectAudio: true,
      defaultSubtitleLanguage: 'en',
      subtitleMode: 1,
      thumb: avatarUrl(a),
    }),
  )
  return containerReply(
    el('MediaContainer', { size: children.length, identifier: 'com.plexapp.system.accounts' }, children),
    ctx.format,
  )
}

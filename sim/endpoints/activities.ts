import { el } from '../container.js'
import { containerReply, type Reply, type RequestContext } from '../http/reply.js'
import { activityElement } from '../live/activities.js'

export function activities(ctx: RequestContext): Reply {
  const children = ctx.live.activities.map(activityElement)
  return containerReply(el('MediaContainer', { size: children.length }, children), ctx.format)
}

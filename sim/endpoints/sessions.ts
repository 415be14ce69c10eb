import { el } from '../container.js'
import { containerReply, type Reply, type RequestContext } from '../http/reply.js'
import { sessionElement, transcodeElement } from '../live/sessions.js'

/** `GET /status/sessions`: what is playing now. */
export function statusSessions(ctx: RequestContext): Reply {
  const children = ctx.live.sessions.map((s) => sessionElement(ctx.world, s))
  return containerReply(el('MediaContainer', { size: children.length }, children), ctx.format)
}

/** `GET /transcode/sessions`: here `TranscodeSession` is a top-level array, not a single object. */
export function transcodeSessions(ctx: RequestContext): Reply {
  const children = ctx.live.sessions.filter((s) => s.transcode).map((s) => transcodeElement(ctx.world, s, false))
  return containerReply(el('MediaContainer', { size: children.length }, children), ctx.format)
}

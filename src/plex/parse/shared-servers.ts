import type { Fields } from '../coerce.js'
import type { SharedServer } from '../types.js'

// `accessToken` is deliberately not read: it is the shared user's token and must never leave the client.
export function parseSharedServers(mc: Fields): SharedServer[] {
  return mc.list('SharedServer').map((s) => ({
    id: s.num('id'),
    userID: s.num('userID'),
    username: s.optStr('username') ?? '',
    email: s.optStr('email') || undefined,
    name: s.optStr('name'),
    invitedAt: s.optNum('invitedAt'),
    acceptedAt: s.optNum('acceptedAt'),
    owned: s.optBool('owned'),
    allowSync: s.optBool('allowSync'),
    allLibraries: s.optBool('allLibraries'),
    sections: s.list('Section').map((sec) => ({
      id: sec.num('id'),
      key: sec.optStr('key'),
      title: sec.optStr('title') ?? '',
      type: sec.optStr('type'),
      shared: sec.bool('shared', false),
    })),
  }))
}

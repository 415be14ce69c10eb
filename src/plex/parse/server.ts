import type { Fields } from '../coerce.js'
import type { Account, ServerIdentity, ServerInfo } from '../types.js'

export function parseServerInfo(mc: Fields): ServerInfo {
  return {
    friendlyName: mc.str('friendlyName'),
    machineIdentifier: mc.str('machineIdentifier'),
    version: mc.str('version'),
    platform: mc.optStr('platform'),
    platformVersion: mc.optStr('platformVersion'),
    myPlex: mc.optBool('myPlex'),
    myPlexUsername: mc.optStr('myPlexUsername'),
    myPlexSubscription: mc.optBool('myPlexSubscription'),
    transcoderActiveVideoSessions: mc.optNum('transcoderActiveVideoSessions'),
    updatedAt: mc.optNum('updatedAt'),
  }
}

export function parseIdentity(mc: Fields): ServerIdentity {
  return {
    machineIdentifier: mc.str('machineIdentifier'),
    version: mc.str('version'),
    claimed: mc.optBool('claimed'),
  }
}

export function parseAccounts(mc: Fields): Account[] {
  return mc.list('Account').map((a) => ({
    id: a.num('id'),
    name: a.optStr('name') ?? '',
    key: a.optStr('key'),
    thumb: a.optStr('thumb') || undefined,
  }))
}

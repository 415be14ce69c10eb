import { afterEach, describe, expect, it } from 'vitest'
import { LocalBus, MemorySharedLayer, settle, type CacheRegistry, type Principal } from '../../src/cache/index.js'
import { setup, Upstream } from './helpers.js'

interface Viewer extends Principal {
  readonly account: number
}
const viewer = (name: string, account: number): Viewer => ({ id: `${name}\0${account}`, account })
const alice = viewer('alice', 7)
const bob = viewer('bob', 8)

interface Sessions {
  sessions: Array<{ account: number; title: string }>
}

const onlyOwn = (value: Sessions, principal: Principal): Sessions => ({
  sessions: value.sessions.filter((s) => s.account === (principal as Viewer).account),
})

let registry: CacheRegistry
const others: CacheRegistry[] = []
afterEach(() => {
  registry.close()
  for (const other of others.splice(0)) other.close()
})

function defineSessions(upstream: Upstream<Sessions>) {
  return registry.define<Sessions>({
    name: 'plex_sessions',
    key: 'plex:sessions',
    ttlMs: 10_000,
    load: upstream.load,
    scoped: { kind: 'view', view: onlyOwn },
  })
}

describe('scoped views of a value loaded once', () => {
  it('loads once for every scope and gives each principal only its own rows', async () => {
    ;({ registry } = setup())
    const upstream = new Upstream<Sessions>((call) => ({
      sessions: [
        { account: 7, title: `a${call}` },
        { account: 8, title: `b${call}` },
        { account: 9, title: `c${call}` },
      ],
    }))
    const sessions = defineSessions(upstream)
    const [a, b, admin] = await Promise.all([
      sessions.read(undefined, registry.scope(alice)),
      sessions.read(undefined, registry.scope(bob)),
      sessions.read(),
    ])
    expect(upstream.calls).toBe(1)
    expect(a.entry.value.sessions.map((s) => s.title)).toEqual(['a1'])
    expect(b.entry.value.sessions.map((s) => s.title)).toEqual(['b1'])
    expect(admin.entry.value.sessions).toHaveLength(3)
    // A hit answers the held view itself, derived once.
    expect(sessions.peek(undefined, registry.scope(alice))).toBe(a.entry)
    expect(registry.scopeStats()).toMatchObject({ scopes: 2, entries: 2, derivations: 2 })
  })

  it('gives every scope its own ETag, even for identical views', async () => {
    ;({ registry } = setup())
    const sessions = defineSessions(new Upstream<Sessions>(() => ({ sessions: [] })))
    const admin = (await sessions.read()).entry
    const a = (await sessions.read(undefined, registry.scope(alice))).entry
    const b = (await sessions.read(undefined, registry.scope(bob))).entry
    expect(a.json).toBe(b.json)
    expect(new Set([admin.etag, a.etag, b.etag]).size).toBe(3)
  })

  it('re-derives a view once its source entry is replaced', async () => {
    let clock
    ;({ clock, registry } = setup())
    const upstream = new Upstream<Sessions>((call) => ({ sessions: [{ account: 7, title: `a${call}` }] }))
    const sessions = defineSessions(upstream)
    const scope = registry.scope(alice)
    expect((await sessions.read(undefined, scope)).entry.value.sessions[0]!.title).toBe('a1')
    await sessions.refresh()
    await settle()
    expect(upstream.calls).toBe(2)
    expect(sessions.peek(undefined, scope)!.value.sessions[0]!.title).toBe('a2')
    // Refresh-ahead replaces the source as the view is read: the next hit is the new view.
    await clock.advance(9_000)
    expect(upstream.calls).toBe(3)
    expect(sessions.peek(undefined, scope)!.value.sessions[0]!.title).toBe('a3')
  })

  it('never gives a new principal the view of a cleared one, whose place it takes', async () => {
    ;({ registry } = setup())
    const upstream = new Upstream<Sessions>(() => ({
      sessions: [
        { account: 7, title: 'of alice' },
        { account: 9, title: 'of carol' },
      ],
    }))
    const sessions = defineSessions(upstream)
    const first = registry.scope(alice)
    expect((await sessions.read(undefined, first)).entry.value.sessions[0]!.title).toBe('of alice')
    await registry.clearScope(alice)
    const carol = registry.scope(viewer('carol', 9))
    expect(carol.index).toBe(first.index)
    expect(sessions.peek(undefined, carol)!.value.sessions.map((s) => s.title)).toEqual(['of carol'])
    expect(upstream.calls).toBe(1)
  })

  it('refuses a scoped read of a cache without scoped reads', () => {
    ;({ registry } = setup())
    const plain = registry.define({ name: 'plain', key: 'plain', ttlMs: 1_000, load: () => 1 })
    expect(() => plain.peek(undefined, registry.scope(alice))).toThrow('cache plain has no scoped reads')
  })
})

describe('scopes that load their own values', () => {
  function defineHistory(upstream: Upstream<string[], { user: number; page: number }>, on: CacheRegistry = registry) {
    return on.define<string[], { user: number; page: number }>({
      name: 'watch_history',
      key: 'plex:watch_history',
      ttlMs: 300_000,
      keyOf: (q) => `user=${q.user}:page=${q.page}`,
      load: upstream.load,
      scoped: { kind: 'own' },
    })
  }

  it('keys each scope apart, with the scope hash and not the principal in the key', async () => {
    ;({ registry } = setup())
    const upstream = new Upstream<string[], { user: number; page: number }>((_call, q) => [`row of ${q.user}`])
    const history = defineHistory(upstream)
    const scope = registry.scope(alice)
    const a = await history.read({ user: 7, page: 0 }, scope)
    const admin = await history.read({ user: 7, page: 0 })
    expect(upstream.calls).toBe(2)
    expect(a.entry.etag).not.toBe(admin.entry.etag)
    expect(history.keyFor({ user: 7, page: 0 }, scope)).toBe(`plex:watch_history:~${scope.id}:user=7:page=0`)
    expect(history.keyFor({ user: 7, page: 0 }, scope)).not.toContain('alice')
  })

  it("holds a scope within its quota: one viewer's pages evict its own, never another's", async () => {
    ;({ registry } = setup({ maxBytes: 1_000_000, maxBytesPerScope: 400 }))
    const upstream = new Upstream<string[], { user: number; page: number }>((_call, q) => [
      'x'.repeat(90),
      String(q.page),
    ])
    const history = defineHistory(upstream)
    const a = registry.scope(alice)
    const b = registry.scope(bob)
    await history.read({ user: 8, page: 0 }, b)
    await history.read({ user: 0, page: 0 })
    for (let page = 0; page < 20; page++) await history.read({ user: 7, page }, a)
    const stats = registry.scopeStats()
    const ofA = stats.perScope.find((s) => s.scope === a.id)!
    expect(ofA.bytes).toBeLessThanOrEqual(400)
    expect(ofA.evictions).toBeGreaterThan(10)
    expect(history.peek({ user: 7, page: 19 }, a)).toBeDefined()
    expect(history.peek({ user: 7, page: 0 }, a)).toBeUndefined()
    expect(history.peek({ user: 8, page: 0 }, b)).toBeDefined()
    expect(history.peek({ user: 0, page: 0 })).toBeDefined()
    expect(history.counters.entries).toBe(ofA.entries + 2)
    expect(history.scopedHeld()).toEqual({ entries: ofA.entries + 1, bytes: stats.bytes })
    expect(stats.largestBytes).toBe(ofA.bytes)

    // Totals are counters: a cleared scope's evictions stay counted.
    await registry.clearScope(alice)
    const after = registry.scopeStats()
    expect(after.evictions).toBe(stats.evictions)
    expect(after.perScope.map((s) => s.scope)).toEqual([b.id])
    expect(after.largestBytes).toBe(after.perScope[0]!.bytes)
  })

  it('holds a sixteenth of the memory budget per scope unless told otherwise', () => {
    ;({ registry } = setup({ maxBytes: 1_600_000 }))
    expect(registry.scopeStats().maxBytesPerScope).toBe(100_000)
  })

  it('clears one scope here, in the shared layer and on another instance, and nothing else', async () => {
    let clock
    ;({ clock, registry } = setup())
    const shared = new MemorySharedLayer(clock)
    const bus = new LocalBus()
    registry.close()
    ;({ registry } = setup({ clock, shared, bus }))
    const other = setup({ clock, shared, bus }).registry
    others.push(other)
    const upstream = new Upstream<string[], { user: number; page: number }>((call) => [`v${call}`])
    const history = defineHistory(upstream)
    const otherHistory = defineHistory(upstream, other)
    await history.read({ user: 7, page: 0 }, registry.scope(alice))
    await history.read({ user: 8, page: 0 }, registry.scope(bob))
    // The other instance takes both from the shared layer.
    await otherHistory.read({ user: 7, page: 0 }, other.scope(alice))
    await otherHistory.read({ user: 8, page: 0 }, other.scope(bob))
    expect(upstream.calls).toBe(2)

    const dropped: string[][] = [[], []]
    registry.onScopeDropped((id) => dropped[0]!.push(id))
    other.onScopeDropped((id) => dropped[1]!.push(id))
    expect(await registry.clearScope(alice)).toBe(true)
    await settle()
    expect(dropped, 'told here and, through the bus, on the other instance').toEqual([
      [registry.scope(alice).id],
      [registry.scope(alice).id],
    ])
    expect(history.peek({ user: 7, page: 0 }, registry.scope(alice))).toBeUndefined()
    expect(otherHistory.peek({ user: 7, page: 0 }, other.scope(alice))).toBeUndefined()
    expect(await shared.get(history.keyFor({ user: 7, page: 0 }, registry.scope(alice)))).toBeUndefined()
    expect(otherHistory.peek({ user: 8, page: 0 }, other.scope(bob))).toBeDefined()
    expect(await shared.get(history.keyFor({ user: 8, page: 0 }, registry.scope(bob)))).toBeDefined()
  })
})

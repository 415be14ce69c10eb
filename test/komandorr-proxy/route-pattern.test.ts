import { describe, expect, it } from 'vitest'
import { routePattern } from '../../src/features/komandorr-upstream/metrics.js'

describe('the route pattern a Komandorr request is counted under', () => {
  it('names ids, uuids and long tokens :id and keeps words', () => {
    expect(routePattern('/api/services/42/check')).toBe('/api/services/:id/check')
    expect(routePattern('/api/invites/users/7/expiration?x=1')).toBe('/api/invites/users/:id/expiration')
    expect(routePattern('/api/services/3f2b8c1e-9d4a-4b7e-8f00-1a2b3c4d5e6f')).toBe('/api/services/:id')
    expect(routePattern('/api/oauth/plex/check/pin4a7b9c2d8e1f0a3b')).toBe('/api/oauth/plex/check/:id')
    expect(routePattern('/api/vpn-proxy/containers/vpn-info-batch')).toBe('/api/vpn-proxy/containers/vpn-info-batch')
    expect(routePattern('/api/uploader/completed_today_stats')).toBe('/api/uploader/completed_today_stats')
  })

  it('counts the pages and assets of the frontend as one pattern', () => {
    expect(routePattern('/')).toBe('frontend')
    expect(routePattern('/assets/index-B1x9Kq2Z.js')).toBe('frontend')
    expect(routePattern('/apiary')).toBe('frontend')
  })
})

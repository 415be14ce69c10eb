import { describe, expect, it } from 'vitest'
import type { SharedServer } from '../../src/plex/index.js'
import { librarySharesOf, OWNER_ACCOUNT_ID, sectionFilter } from '../../src/features/viewers/library-shares.js'

const share = (
  userID: number,
  sections: Array<[key: string, shared: boolean]>,
  allLibraries = false,
): SharedServer => ({
  id: 9_000_000 + userID,
  userID,
  username: `user${userID}`,
  allLibraries,
  sections: sections.map(([key, shared], i) => ({ id: 100 + i, key, title: `section ${key}`, shared })),
})

describe('library shares from plex.tv shared_servers', () => {
  const shares = librarySharesOf([
    share(11, [
      ['1', true],
      ['2', false],
      ['5', true],
    ]),
    share(12, [
      ['1', false],
      ['2', true],
    ]),
    // the same user through a second entry: what either shares
    share(12, [
      ['3', true],
      ['2', false],
    ]),
    share(13, [['1', true]], true),
  ])

  it('lets an account see only the sections marked shared for it', () => {
    const ann = sectionFilter(shares, 11)
    expect(['1', '2', '3', '5', '7'].filter(ann)).toEqual(['1', '5'])
  })

  it('joins the sections of every entry of one user', () => {
    expect(['1', '2', '3', '5'].filter(sectionFilter(shares, 12))).toEqual(['2', '3'])
  })

  it('lets a share of all libraries see sections plex.tv did not list (added later)', () => {
    expect(['1', '2', '99'].filter(sectionFilter(shares, 13))).toEqual(['1', '2', '99'])
  })

  it('shares nothing with an account plex.tv does not list, nor with anyone while the sharing is unknown', () => {
    expect(['1', '2'].filter(sectionFilter(shares, 14))).toEqual([])
    expect(['1', '2'].filter(sectionFilter(null, 11))).toEqual([])
    expect(['1', '2'].filter(sectionFilter(undefined, 13))).toEqual([])
  })

  it("gives the owner's account every section, sharing known or not", () => {
    expect(['1', '2', '99'].filter(sectionFilter(shares, OWNER_ACCOUNT_ID))).toEqual(['1', '2', '99'])
    expect(['1', '2'].filter(sectionFilter(null, OWNER_ACCOUNT_ID))).toEqual(['1', '2'])
  })

  it('survives its JSON form (it is kept in a cached value shared through Redis)', () => {
    const again = JSON.parse(JSON.stringify(shares))
    expect(['1', '2', '3', '5'].filter(sectionFilter(again, 11))).toEqual(['1', '5'])
    expect(['1', '99'].filter(sectionFilter(again, 13))).toEqual(['1', '99'])
  })
})

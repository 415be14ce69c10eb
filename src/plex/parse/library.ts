import type { Fields } from '../coerce.js'
import type { LibraryItem, LibrarySection } from '../types.js'
import { parseMedia } from './media.js'

export function parseLibrarySections(mc: Fields): LibrarySection[] {
  return mc.list('Directory').map((d) => ({
    id: d.num('key'),
    type: d.str('type'),
    title: d.str('title'),
    agent: d.optStr('agent'),
    scanner: d.optStr('scanner'),
    language: d.optStr('language'),
    uuid: d.optStr('uuid'),
    refreshing: d.bool('refreshing', false),
    hidden: d.optBool('hidden'),
    thumb: d.optStr('thumb'),
    art: d.optStr('art'),
    createdAt: d.optNum('createdAt'),
    updatedAt: d.optNum('updatedAt'),
    scannedAt: d.optNum('scannedAt'),
    contentChangedAt: d.optNum('contentChangedAt'),
    locations: d.list('Location').map((l) => ({ id: l.optNum('id'), path: l.str('path') })),
  }))
}

export function parseLibraryItem(m: Fields): LibraryItem {
  return {
    ratingKey: m.optKey('ratingKey'),
    key: m.optStr('key'),
    guid: m.optStr('guid'),
    type: m.str('type'),
    title: m.str('title'),
    titleSort: m.optStr('titleSort'),
    originalTitle: m.optStr('originalTitle'),
    summary: m.optStr('summary'),
    tagline: m.optStr('tagline'),
    studio: m.optStr('studio'),
    contentRating: m.optStr('contentRating'),
    year: m.optNum('year'),
    originallyAvailableAt: m.optStr('originallyAvailableAt'),
    rating: m.optNum('rating'),
    audienceRating: m.optNum('audienceRating'),
    thumb: m.optStr('thumb'),
    art: m.optStr('art'),
    duration: m.optNum('duration'),
    addedAt: m.optNum('addedAt'),
    updatedAt: m.optNum('updatedAt'),
    lastViewedAt: m.optNum('lastViewedAt'),
    viewCount: m.optNum('viewCount'),
    librarySectionID: m.optNum('librarySectionID'),
    librarySectionTitle: m.optStr('librarySectionTitle'),
    parentRatingKey: m.optKey('parentRatingKey'),
    grandparentRatingKey: m.optKey('grandparentRatingKey'),
    parentTitle: m.optStr('parentTitle'),
    grandparentTitle: m.optStr('grandparentTitle'),
    parentThumb: m.optStr('parentThumb'),
    grandparentThumb: m.optStr('grandparentThumb'),
    grandparentArt: m.optStr('grandparentArt'),
    index: m.optNum('index'),
    parentIndex: m.optNum('parentIndex'),
    leafCount: m.optNum('leafCount'),
    viewedLeafCount: m.optNum('viewedLeafCount'),
    childCount: m.optNum('childCount'),
    genres: m.tags('Genre'),
    media: m.list('Media').map(parseMedia),
  }
}

/**
 * Items of a library list. PMS JSON puts every item under `Metadata`; the container's own
 * `librarySectionID` applies to items that do not repeat it (section listings leave it out).
 */
export function parseLibraryItems(mc: Fields): LibraryItem[] {
  const sectionId = mc.optNum('librarySectionID')
  return mc.list('Metadata').map((m) => {
    const item = parseLibraryItem(m)
    if (item.librarySectionID === undefined && sectionId !== undefined) item.librarySectionID = sectionId
    return item
  })
}

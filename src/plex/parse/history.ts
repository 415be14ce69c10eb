import type { Fields } from '../coerce.js'
import type { HistoryRow } from '../types.js'

export function parseHistoryRow(m: Fields): HistoryRow {
  const ratingKey = m.optKey('ratingKey')
  return {
    historyKey: m.str('historyKey'),
    ratingKey,
    deleted: ratingKey === undefined,
    key: m.optStr('key'),
    parentRatingKey: m.optKey('parentRatingKey'),
    grandparentRatingKey: m.optKey('grandparentRatingKey'),
    title: m.optStr('title') ?? '',
    parentTitle: m.optStr('parentTitle'),
    grandparentTitle: m.optStr('grandparentTitle'),
    type: m.str('type'),
    thumb: m.optStr('thumb'),
    parentThumb: m.optStr('parentThumb'),
    grandparentThumb: m.optStr('grandparentThumb'),
    grandparentArt: m.optStr('grandparentArt'),
    index: m.optNum('index'),
    parentIndex: m.optNum('parentIndex'),
    originallyAvailableAt: m.optStr('originallyAvailableAt'),
    viewedAt: m.num('viewedAt'),
    accountID: m.num('accountID'),
    deviceID: m.optNum('deviceID'),
    librarySectionID: m.optNum('librarySectionID'),
  }
}

export function parseHistoryRows(mc: Fields): HistoryRow[] {
  return mc.list('Metadata').map(parseHistoryRow)
}

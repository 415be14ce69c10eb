import { el, item, type Attrs, type El } from '../container.js'
import { hash32, intBetween, pick, unit } from '../random.js'
import {
  COUNTRIES,
  LABELS,
  MOVIE_GENRES,
  MOVIE_RATINGS,
  MUSIC_GENRES,
  STUDIOS,
  TV_RATINGS,
  personName,
  summary,
} from './names.js'
import type { Library } from './store.js'
import { TYPE, TYPE_NAME } from './types.js'

export type Detail = 'list' | 'full'

/** XML element name PMS uses for an item type. */
export function xmlTag(type: number): string {
  switch (type) {
    case TYPE.movie:
    case TYPE.episode:
    case TYPE.clip:
      return 'Video'
    case TYPE.track:
      return 'Track'
    case TYPE.photo:
      return 'Photo'
    default:
      return 'Directory'
  }
}

export function guidHex(seed: number, row: number): string {
  return (
    hash32(seed, row, 81).toString(16).padStart(8, '0') +
    hash32(seed, row, 82).toString(16).padStart(8, '0') +
    hash32(seed, row, 83).toString(16).padStart(8, '0')
  )
}

export function thumbPath(lib: Library, row: number): string {
  return `/library/metadata/${lib.ratingKey(row)}/thumb/${lib.updatedAt(row)}`
}

export function artPath(lib: Library, row: number): string {
  return `/library/metadata/${lib.ratingKey(row)}/art/${lib.updatedAt(row)}`
}

function releaseDate(lib: Library, row: number): string {
  const h = hash32(lib.seed, row, 91)
  const month = 1 + (h % 12)
  const day = 1 + ((h >>> 8) % 28)
  return `${lib.year[row]}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`
}

function rating(lib: Library, row: number, salt: number): number {
  return Math.round((3 + unit(hash32(lib.seed, row, salt)) * 6.9) * 10) / 10
}

function tags(tag: string, values: readonly string[]): El[] {
  return values.map((v) => el(tag, { tag: v }))
}

function genres(lib: Library, row: number, list: readonly string[], n: number): string[] {
  const out: string[] = []
  for (let i = 0; out.length < n && i < n * 3; i++) {
    const g = pick(list, unit(hash32(lib.seed, row, 100 + i)))
    if (!out.includes(g)) out.push(g)
  }
  return out
}

interface VideoProfile {
  resolution: '4k' | '1080' | '720' | 'sd'
  width: number
  height: number
  videoCodec: string
  audioCodec: string
  audioChannels: number
  container: string
  bitrate: number
}

/** Deterministic encode of one version of a video; `variant` 1 is a second, smaller copy. */
export function videoProfile(lib: Library, row: number, variant: number): VideoProfile {
  const r = unit(hash32(lib.seed, row, 120 + variant))
  const resolution =
    variant === 1 ? (r < 0.5 ? '1080' : '720') : r < 0.15 ? '4k' : r < 0.65 ? '1080' : r < 0.85 ? '720' : 'sd'
  const wide = unit(hash32(lib.seed, row, 125)) < 0.4
  const dims = {
    '4k': [3840, wide ? 1608 : 2160],
    '1080': [1920, wide ? 804 : 1080],
    '720': [1280, wide ? 536 : 720],
    sd: [720, 480],
  }[resolution]
  const bitrateRange = { '4k': [15_000, 40_000], '1080': [4_000, 12_000], '720': [2_000, 5_000], sd: [800, 2_000] }[
    resolution
  ]
  const a = unit(hash32(lib.seed, row, 130 + variant))
  return {
    resolution,
    width: dims[0]!,
    height: dims[1]!,
    videoCodec: resolution === '4k' || unit(hash32(lib.seed, row, 131)) < 0.2 ? 'hevc' : 'h264',
    audioCodec: a < 0.35 ? 'eac3' : a < 0.6 ? 'ac3' : a < 0.8 ? 'aac' : a < 0.92 ? 'dts' : 'truehd',
    audioChannels: a < 0.8 ? 6 : 8,
    container: unit(hash32(lib.seed, row, 132)) < 0.7 ? 'mkv' : 'mp4',
    bitrate: intBetween(unit(hash32(lib.seed, row, 133 + variant)), bitrateRange[0]!, bitrateRange[1]!),
  }
}

export function mediaId(row: number, variant: number): number {
  return 100_000 + row * 2 + variant
}

export function filePath(lib: Library, row: number, container: string): string {
  const t = lib.type[row]
  if (t === TYPE.episode) {
    const season = lib.parentRow(row)
    const show = lib.parentRow(season)
    return `/data/TV Shows/${lib.title(show)}/Season ${String(lib.index[season]).padStart(2, '0')}/${lib.title(show)} - S${String(lib.index[season]).padStart(2, '0')}E${String(lib.index[row]).padStart(2, '0')}.${container}`
  }
  if (t === TYPE.track) {
    const album = lib.parentRow(row)
    return `/data/Music/${lib.title(lib.parentRow(album))}/${lib.title(album)}/${String(lib.index[row]).padStart(2, '0')} - ${lib.title(row)}.${container}`
  }
  if (t === TYPE.photo) return `/data/Photos/${lib.title(row)}.${container}`
  const section = lib.sectionById(lib.section[row]!)
  return `${section?.path ?? '/data'}/${lib.title(row)} (${lib.year[row]})/${lib.title(row)} (${lib.year[row]}).${container}`
}

/** `Media` of a video as listed in the library; sessions decorate a copy of it. */
export function videoMedia(lib: Library, row: number, variant: number): El {
  const p = videoProfile(lib, row, variant)
  const id = mediaId(row, variant)
  const duration = lib.duration[row]!
  return el(
    'Media',
    {
      id,
      duration,
      bitrate: p.bitrate,
      width: p.width,
      height: p.height,
      aspectRatio: Math.round((p.width / p.height) * 100) / 100,
      audioChannels: p.audioChannels,
      audioCodec: p.audioCodec,
      videoCodec: p.videoCodec,
      videoResolution: p.resolution,
      container: p.container,
      videoFrameRate: '24p',
      videoProfile: p.videoCodec === 'hevc' ? 'main 10' : 'high',
    },
    [
      el('Part', {
        id,
        key: `/library/parts/${id}/${lib.addedAt[row]}/file.${p.container}`,
        duration,
        file: filePath(lib, row, p.container),
        size: Math.round(p.bitrate * 125 * (duration / 1000)),
        container: p.container,
        videoProfile: p.videoCodec === 'hevc' ? 'main 10' : 'high',
      }),
    ],
  )
}

export function audioMedia(lib: Library, row: number): El {
  const flac = unit(hash32(lib.seed, row, 140)) < 0.5
  const container = flac ? 'flac' : 'mp3'
  const bitrate = flac ? intBetween(unit(hash32(lib.seed, row, 141)), 700, 1100) : 320
  const id = mediaId(row, 0)
  const duration = lib.duration[row]!
  return el('Media', { id, duration, bitrate, audioChannels: 2, audioCodec: container, container }, [
    el('Part', {
      id,
      key: `/library/parts/${id}/${lib.addedAt[row]}/file.${container}`,
      duration,
      file: filePath(lib, row, container),
      size: Math.round(bitrate * 125 * (duration / 1000)),
      container,
    }),
  ])
}

function photoMedia(lib: Library, row: number): El {
  const id = mediaId(row, 0)
  return el('Media', { id, width: 4032, height: 3024, aspectRatio: 1.33, container: 'jpeg' }, [
    el('Part', {
      id,
      key: `/library/parts/${id}/${lib.addedAt[row]}/file.jpg`,
      file: filePath(lib, row, 'jpg'),
      size: 2_400_000 + (hash32(lib.seed, row, 150) % 2_000_000),
      container: 'jpeg',
    }),
  ])
}

/** Does this video have a second version (PMS then lists several `Media`)? */
export function hasSecondVersion(lib: Library, row: number): boolean {
  return lib.type[row] === TYPE.movie && unit(hash32(lib.seed, row, 160)) < 0.12
}

function sectionAttrs(lib: Library, row: number): Attrs {
  const section = lib.sectionById(lib.section[row]!)
  return {
    librarySectionTitle: section?.title,
    librarySectionID: section?.id,
    librarySectionKey: section ? `/library/sections/${section.id}` : undefined,
  }
}

/**
 * An item as PMS lists it. `full` (what `/library/metadata/{id}` answers) adds the
 * section, summary fields, `Guid[]`, people and streams.
 */
export function itemElement(lib: Library, row: number, detail: Detail): El {
  const seed = lib.seed
  const type = lib.type[row]!
  const rk = lib.ratingKey(row)
  const name = TYPE_NAME[type] ?? 'movie'
  const full = detail === 'full'
  const children: El[] = []
  const attrs: Attrs = {
    ratingKey: String(rk),
    key:
      type === TYPE.show || type === TYPE.season || type === TYPE.artist || type === TYPE.album
        ? `/library/metadata/${rk}/children`
        : `/library/metadata/${rk}`,
    guid: `plex://${name}/${guidHex(seed, row)}`,
  }
  const parent = lib.parentRow(row)
  const grandparent = parent >= 0 ? lib.parentRow(parent) : -1
  if (parent >= 0) {
    attrs.parentRatingKey = String(lib.ratingKey(parent))
    if (grandparent >= 0) attrs.grandparentRatingKey = String(lib.ratingKey(grandparent))
    attrs.parentGuid = `plex://${TYPE_NAME[lib.type[parent]!]}/${guidHex(seed, parent)}`
    if (grandparent >= 0)
      attrs.grandparentGuid = `plex://${TYPE_NAME[lib.type[grandparent]!]}/${guidHex(seed, grandparent)}`
  }
  if (full) Object.assign(attrs, sectionAttrs(lib, row))
  attrs.type = name
  attrs.title = lib.title(row)
  if (parent >= 0) {
    if (grandparent >= 0) attrs.grandparentKey = `/library/metadata/${lib.ratingKey(grandparent)}`
    attrs.parentKey = `/library/metadata/${lib.ratingKey(parent)}`
    if (grandparent >= 0) attrs.grandparentTitle = lib.title(grandparent)
    attrs.parentTitle = lib.title(parent)
  }

  switch (type) {
    case TYPE.movie: {
      const documentary = lib.section[row] === 5
      Object.assign(attrs, {
        studio: pick(STUDIOS, unit(hash32(seed, row, 170))),
        contentRating: pick(MOVIE_RATINGS, unit(hash32(seed, row, 171))),
        summary: summary(seed, row),
        rating: rating(lib, row, 172),
        audienceRating: rating(lib, row, 173),
        year: lib.year[row],
        tagline: full ? `${lib.title(row)}. Nothing will be the same.` : undefined,
        thumb: thumbPath(lib, row),
        art: artPath(lib, row),
        duration: lib.duration[row],
        originallyAvailableAt: releaseDate(lib, row),
        addedAt: lib.addedAt[row],
        updatedAt: lib.updatedAt(row),
        audienceRatingImage: 'rottentomatoes://image.rating.upright',
        ratingImage: 'rottentomatoes://image.rating.ripe',
      })
      children.push(videoMedia(lib, row, 0))
      if (hasSecondVersion(lib, row)) children.push(videoMedia(lib, row, 1))
      children.push(...tags('Genre', documentary ? ['Documentary'] : genres(lib, row, MOVIE_GENRES, 2)))
      children.push(...tags('Country', [pick(COUNTRIES, unit(hash32(seed, row, 174)))]))
      children.push(...tags('Director', [personName(seed, row, 175)]))
      if (full) {
        children.push(...tags('Writer', [personName(seed, row, 176)]))
        children.push(...guids(lib, row))
        children.push(...roles(lib, row))
      }
      break
    }
    case TYPE.show: {
      const seasons = lib.childrenOf(row)
      Object.assign(attrs, {
        studio: pick(STUDIOS, unit(hash32(seed, row, 170))),
        contentRating: pick(TV_RATINGS, unit(hash32(seed, row, 171))),
        summary: summary(seed, row),
        index: 1,
        audienceRating: rating(lib, row, 173),
        year: lib.year[row],
        thumb: thumbPath(lib, row),
        art: artPath(lib, row),
        theme: `/library/metadata/${rk}/theme/${lib.updatedAt(row)}`,
        duration: lib.duration[row],
        originallyAvailableAt: releaseDate(lib, row),
        leafCount: lib.leafCount(row),
        viewedLeafCount: 0,
        childCount: seasons.length,
        addedAt: lib.addedAt[row],
        updatedAt: lib.updatedAt(row),
      })
      children.push(...tags('Genre', genres(lib, row, MOVIE_GENRES, 2)))
      if (full) {
        children.push(...guids(lib, row))
        children.push(...roles(lib, row))
      }
      break
    }
    case TYPE.season: {
      Object.assign(attrs, {
        summary: '',
        index: lib.index[row],
        parentIndex: 1,
        parentYear: lib.year[parent],
        thumb: thumbPath(lib, row),
        art: artPath(lib, parent),
        parentThumb: thumbPath(lib, parent),
        parentTheme: `/library/metadata/${lib.ratingKey(parent)}/theme/${lib.updatedAt(parent)}`,
        leafCount: lib.childrenOf(row).length,
        viewedLeafCount: 0,
        addedAt: lib.addedAt[row],
        updatedAt: lib.updatedAt(row),
      })
      break
    }
    case TYPE.episode: {
      Object.assign(attrs, {
        contentRating: pick(TV_RATINGS, unit(hash32(seed, grandparent, 171))),
        summary: summary(seed, row),
        index: lib.index[row],
        parentIndex: lib.index[parent],
        audienceRating: rating(lib, row, 173),
        year: lib.year[row],
        thumb: thumbPath(lib, row),
        art: artPath(lib, grandparent),
        parentThumb: thumbPath(lib, parent),
        grandparentThumb: thumbPath(lib, grandparent),
        grandparentArt: artPath(lib, grandparent),
        duration: lib.duration[row],
        originallyAvailableAt: releaseDate(lib, row),
        addedAt: lib.addedAt[row],
        updatedAt: lib.updatedAt(row),
      })
      children.push(videoMedia(lib, row, 0))
      children.push(...tags('Director', [personName(seed, row, 175)]))
      children.push(...tags('Writer', [personName(seed, row, 176)]))
      if (full) children.push(...guids(lib, row))
      break
    }
    case TYPE.artist: {
      Object.assign(attrs, {
        summary: full ? summary(seed, row) : '',
        index: 1,
        thumb: thumbPath(lib, row),
        art: artPath(lib, row),
        addedAt: lib.addedAt[row],
        updatedAt: lib.updatedAt(row),
        childCount: lib.childrenOf(row).length,
      })
      children.push(...tags('Genre', genres(lib, row, MUSIC_GENRES, 1)))
      children.push(...tags('Country', [pick(COUNTRIES, unit(hash32(seed, row, 174)))]))
      break
    }
    case TYPE.album: {
      Object.assign(attrs, {
        studio: pick(LABELS, unit(hash32(seed, row, 178))),
        summary: '',
        index: lib.index[row],
        rating: rating(lib, row, 172),
        year: lib.year[row],
        thumb: thumbPath(lib, row),
        art: artPath(lib, parent),
        parentThumb: thumbPath(lib, parent),
        originallyAvailableAt: releaseDate(lib, row),
        leafCount: lib.childrenOf(row).length,
        viewedLeafCount: 0,
        addedAt: lib.addedAt[row],
        updatedAt: lib.updatedAt(row),
        loudnessAnalysisVersion: '2',
      })
      children.push(...tags('Genre', genres(lib, parent, MUSIC_GENRES, 1)))
      break
    }
    case TYPE.track: {
      Object.assign(attrs, {
        summary: '',
        index: lib.index[row],
        parentIndex: lib.index[parent],
        parentYear: lib.year[parent],
        thumb: thumbPath(lib, parent),
        art: artPath(lib, grandparent),
        parentThumb: thumbPath(lib, parent),
        grandparentThumb: thumbPath(lib, grandparent),
        grandparentArt: artPath(lib, grandparent),
        duration: lib.duration[row],
        addedAt: lib.addedAt[row],
        updatedAt: lib.updatedAt(row),
        musicAnalysisVersion: '1',
      })
      children.push(audioMedia(lib, row))
      break
    }
    case TYPE.photo: {
      Object.assign(attrs, {
        summary: '',
        index: 1,
        year: lib.year[row],
        thumb: thumbPath(lib, row),
        originallyAvailableAt: releaseDate(lib, row),
        addedAt: lib.addedAt[row],
        updatedAt: lib.updatedAt(row),
      })
      children.push(photoMedia(lib, row))
      break
    }
  }
  return item(xmlTag(type), attrs, children)
}

function guids(lib: Library, row: number): El[] {
  const h = hash32(lib.seed, row, 180)
  return [
    el('Guid', { id: `imdb://tt${String(h % 9_999_999).padStart(7, '0')}` }),
    el('Guid', { id: `tmdb://${h % 999_999}` }),
    el('Guid', { id: `tvdb://${(h >>> 3) % 9_999_999}` }),
  ]
}

function roles(lib: Library, row: number): El[] {
  const out: El[] = []
  for (let i = 0; i < 3; i++) {
    const id = hash32(lib.seed, row, 190 + i) % 400_000
    out.push(
      el('Role', {
        id,
        filter: `actor=${id}`,
        tag: personName(lib.seed, row, 200 + i * 2),
        role: personName(lib.seed, row, 210 + i * 2),
      }),
    )
  }
  return out
}

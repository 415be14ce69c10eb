import type { Fields } from '../coerce.js'
import type { Media, MediaPart } from '../types.js'

function parsePart(p: Fields): MediaPart {
  return {
    id: p.optNum('id'),
    key: p.optStr('key'),
    file: p.optStr('file'),
    size: p.optNum('size'),
    duration: p.optNum('duration'),
    container: p.optStr('container'),
    decision: p.optStr('decision'),
    selected: p.optBool('selected'),
  }
}

export function parseMedia(m: Fields): Media {
  return {
    id: m.optNum('id'),
    duration: m.optNum('duration'),
    bitrate: m.optNum('bitrate'),
    width: m.optNum('width'),
    height: m.optNum('height'),
    videoResolution: m.optStr('videoResolution'),
    videoCodec: m.optStr('videoCodec'),
    videoFrameRate: m.optStr('videoFrameRate'),
    audioCodec: m.optStr('audioCodec'),
    audioChannels: m.optNum('audioChannels'),
    container: m.optStr('container'),
    selected: m.bool('selected', false),
    parts: m.list('Part').map(parsePart),
  }
}

/** The Media a session plays: the one PMS flags `selected`, else the only one. */
export function selectedMedia(media: Media[]): Media | undefined {
  return media.find((m) => m.selected) ?? (media.length === 1 ? media[0] : undefined)
}

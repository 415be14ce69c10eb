import type { Fields } from '../coerce.js'
import type { PlaybackSession, SessionPlayer, TranscodeSession } from '../types.js'
import { parseMedia, selectedMedia } from './media.js'

function parsePlayer(p: Fields): SessionPlayer {
  return {
    state: p.str('state'),
    title: p.optStr('title'),
    device: p.optStr('device'),
    product: p.optStr('product'),
    platform: p.optStr('platform'),
    platformVersion: p.optStr('platformVersion'),
    address: p.optStr('address'),
    remotePublicAddress: p.optStr('remotePublicAddress'),
    machineIdentifier: p.optStr('machineIdentifier'),
    local: p.optBool('local'),
    relayed: p.optBool('relayed'),
    secure: p.optBool('secure'),
    version: p.optStr('version'),
  }
}

export function parseTranscodeSession(t: Fields): TranscodeSession {
  return {
    key: t.optStr('key'),
    speed: t.optNum('speed'),
    progress: t.optNum('progress'),
    throttled: t.optBool('throttled'),
    complete: t.optBool('complete'),
    duration: t.optNum('duration'),
    remaining: t.optNum('remaining'),
    context: t.optStr('context'),
    protocol: t.optStr('protocol'),
    videoDecision: t.optStr('videoDecision'),
    audioDecision: t.optStr('audioDecision'),
    container: t.optStr('container'),
    videoCodec: t.optStr('videoCodec'),
    audioCodec: t.optStr('audioCodec'),
    sourceVideoCodec: t.optStr('sourceVideoCodec'),
    sourceAudioCodec: t.optStr('sourceAudioCodec'),
    width: t.optNum('width'),
    height: t.optNum('height'),
    transcodeHwRequested: t.optBool('transcodeHwRequested'),
    transcodeHwFullPipeline: t.optBool('transcodeHwFullPipeline'),
  }
}

/** `GET /transcode/sessions`. */
export function parseTranscodeSessions(mc: Fields): TranscodeSession[] {
  return mc.list('TranscodeSession').map(parseTranscodeSession)
}

export function parseSession(m: Fields): PlaybackSession {
  const user = m.child('User')
  const network = m.optChild('Session')
  const transcode = m.optChild('TranscodeSession')
  const media = m.list('Media').map(parseMedia)
  return {
    sessionKey: m.key('sessionKey'),
    ratingKey: m.optKey('ratingKey'),
    key: m.optStr('key'),
    guid: m.optStr('guid'),
    type: m.str('type'),
    title: m.str('title'),
    parentTitle: m.optStr('parentTitle'),
    grandparentTitle: m.optStr('grandparentTitle'),
    parentRatingKey: m.optKey('parentRatingKey'),
    grandparentRatingKey: m.optKey('grandparentRatingKey'),
    index: m.optNum('index'),
    parentIndex: m.optNum('parentIndex'),
    year: m.optNum('year'),
    rating: m.optNum('rating'),
    contentRating: m.optStr('contentRating'),
    thumb: m.optStr('thumb'),
    art: m.optStr('art'),
    grandparentArt: m.optStr('grandparentArt'),
    parentThumb: m.optStr('parentThumb'),
    grandparentThumb: m.optStr('grandparentThumb'),
    librarySectionID: m.optNum('librarySectionID'),
    librarySectionTitle: m.optStr('librarySectionTitle'),
    live: m.bool('live', false),
    duration: m.optNum('duration'),
    viewOffset: m.optNum('viewOffset'),
    addedAt: m.optNum('addedAt'),
    user: { id: user.optNum('id'), title: user.optStr('title'), thumb: user.optStr('thumb') },
    player: parsePlayer(m.child('Player')),
    session: network && {
      id: network.optStr('id'),
      bandwidth: network.optNum('bandwidth'),
      location: network.optStr('location'),
    },
    transcodeSession: transcode && parseTranscodeSession(transcode),
    media,
    selectedMedia: selectedMedia(media),
  }
}

export function parseSessions(mc: Fields): PlaybackSession[] {
  return mc.list('Metadata').map(parseSession)
}

import { el } from '../container.js'
import { containerReply, type Reply, type RequestContext } from '../http/reply.js'

const ROOT_DIRECTORIES = [
  'activities',
  'butler',
  'channels',
  'clients',
  'devices',
  'diagnostics',
  'hubs',
  'library',
  'livetv',
  'media',
  'metadata',
  'neighborhood',
  'playQueues',
  'player',
  'playlists',
  'resources',
  'search',
  'server',
  'servers',
  'statistics',
  'system',
  'transcode',
  'updater',
  'user',
] as const

/** `GET /`: server capabilities, as in HA's recorded `plex_server_base.xml`. */
export function serverInfo(ctx: RequestContext): Reply {
  const { world, live } = ctx
  const owner = world.people.accounts[1]!
  const videoTranscodes = live.sessions.filter((s) => s.transcode && s.kind !== 'track').length
  const children = ROOT_DIRECTORIES.map((key) =>
    el('Directory', { count: key === 'library' || key === 'media' || key === 'livetv' ? 3 : 1, key, title: key }),
  )
  return containerReply(
    el(
      'MediaContainer',
      {
        size: children.length,
        allowCameraUpload: true,
        allowChannelAccess: true,
        allowMediaDeletion: true,
        allowSharing: true,
        allowSync: true,
        allowTuners: true,
        backgroundProcessing: true,
        certificate: true,
        companionProxy: true,
        countryCode: 'usa',
        diagnostics: 'logs,databases,streaminglogs',
        eventStream: true,
        friendlyName: world.opts.serverName,
        hubSearch: true,
        itemClusters: true,
        livetv: 7,
        machineIdentifier: world.machineIdentifier,
        mediaProviders: true,
        multiuser: true,
        myPlex: true,
        myPlexMappingState: 'mapped',
        myPlexSigninState: 'ok',
        myPlexSubscription: true,
        myPlexUsername: owner.email,
        offlineTranscode: 1,
        ownerFeatures:
          'camera_upload,cloudsync,collections,content_filter,dvr,hardware_transcoding,home,hwtranscode,livetv,lyrics,music_videos,pass,session_bandwidth_restrictions,session_kick,sync,trailers,webhooks',
        photoAutoTag: true,
        platform: 'Linux',
        platformVersion: '22.04.4 LTS (Jammy Jellyfish)',
        pluginHost: true,
        pushNotifications: false,
        readOnlyLibraries: false,
        streamingBrainABRVersion: 3,
        streamingBrainVersion: 2,
        sync: true,
        transcoderActiveVideoSessions: videoTranscodes,
        transcoderAudio: true,
        transcoderLyrics: true,
        transcoderPhoto: true,
        transcoderSubtitles: true,
        transcoderVideo: true,
        transcoderVideoBitrates: '64,96,208,320,720,1500,2000,3000,4000,8000,10000,12000,20000',
        transcoderVideoQualities: '0,1,2,3,4,5,6,7,8,9,10,11,12',
        transcoderVideoResolutions: '128,128,160,240,320,480,768,720,720,1080,1080,1080,1080',
        updatedAt: world.opts.startTime - 86_400,
        updater: true,
        version: world.version,
        voiceSearch: true,
      },
      children,
    ),
    ctx.format,
  )
}

/** `GET /identity`: the one endpoint PMS answers without a token. */
export function identity(ctx: RequestContext): Reply {
  const { world } = ctx
  return containerReply(
    el('MediaContainer', {
      size: 0,
      claimed: true,
      machineIdentifier: world.machineIdentifier,
      version: world.version,
    }),
    ctx.format,
  )
}

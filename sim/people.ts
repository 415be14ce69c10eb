import { userName } from './library/names.js'
import { alnumString, hexString, mulberry32 } from './random.js'

export interface Account {
  id: number
  name: string
  email: string
  /** plex.tv avatar hash, as in `https://plex.tv/users/<hash>/avatar?c=<n>`. */
  avatarHash: string
  avatarVersion: number
  /** Shared users only: when the invitation was sent and accepted (unix s). */
  invitedAt: number
  acceptedAt: number
}

export interface Device {
  /** PMS-local device id, as in history rows' `deviceID`. */
  id: number
  title: string
  device: string
  product: string
  platform: string
  platformVersion: string
  model: string
  vendor: string
  version: string
  profile: string
  machineIdentifier: string
  address: string
  remotePublicAddress: string
  local: boolean
  deviceClass: string
  music: boolean
}

const DEVICE_SPECS: readonly Omit<Device, 'id' | 'machineIdentifier' | 'address' | 'remotePublicAddress' | 'local'>[] =
  [
    {
      title: 'SHIELD Android TV',
      device: 'SHIELD Android TV',
      product: 'Plex for Android (TV)',
      platform: 'Android',
      platformVersion: '11',
      model: 'mdarcy',
      vendor: 'NVIDIA',
      version: '10.14.0.2413',
      profile: 'Android',
      deviceClass: 'stb',
      music: false,
    },
    {
      title: 'Living Room Roku',
      device: 'Roku Ultra',
      product: 'Plex for Roku',
      platform: 'Roku',
      platformVersion: '12.5',
      model: '4800X',
      vendor: 'Roku',
      version: '8.2.1',
      profile: 'Roku',
      deviceClass: 'stb',
      music: false,
    },
    {
      title: 'iPhone',
      device: 'iPhone',
      product: 'Plex for iOS',
      platform: 'iOS',
      platformVersion: '17.5',
      model: '15,2',
      vendor: 'Apple',
      version: '8.34',
      profile: 'iOS',
      deviceClass: 'phone',
      music: false,
    },
    {
      title: 'Chrome',
      device: 'Windows',
      product: 'Plex Web',
      platform: 'Chrome',
      platformVersion: '126.0',
      model: 'hosted',
      vendor: '',
      version: '4.132.0',
      profile: 'Web',
      deviceClass: 'pc',
      music: false,
    },
    {
      title: 'DESKTOP-7QK2M4',
      device: 'Windows',
      product: 'Plex for Windows',
      platform: 'windows',
      platformVersion: '10.0.22631',
      model: 'standalone',
      vendor: '',
      version: '1.96.0.4621',
      profile: 'Plex Desktop',
      deviceClass: 'pc',
      music: false,
    },
    {
      title: 'Apple TV',
      device: 'Apple TV',
      product: 'Plex for Apple TV',
      platform: 'tvOS',
      platformVersion: '17.5',
      model: '14,1',
      vendor: 'Apple',
      version: '8.34',
      profile: 'tvOS',
      deviceClass: 'stb',
      music: false,
    },
    {
      title: 'LG OLED65C1',
      device: 'LG TV',
      product: 'Plex for LG',
      platform: 'webOS',
      platformVersion: '6.3.2',
      model: 'OLED65C1',
      vendor: 'LG',
      version: '5.36.1',
      profile: 'webOS',
      deviceClass: 'tv',
      music: false,
    },
    {
      title: 'Pixel 8',
      device: 'Pixel 8',
      product: 'Plexamp',
      platform: 'Android',
      platformVersion: '14',
      model: 'shiba',
      vendor: 'Google',
      version: '4.11.1',
      profile: 'Plexamp',
      deviceClass: 'phone',
      music: true,
    },
  ]

export interface People {
  /** Index 0 is the system account (id 0), index 1 the owner (id 1), then shared users. */
  accounts: Account[]
  devices: Device[]
}

export function generatePeople(seed: number, startTime: number, sharedUsers?: number): People {
  const rng = mulberry32(seed ^ 0xacc7)
  // Drawn even when given, so that the rest of the generation stays the same for a seed.
  const drawn = 3 + Math.floor(rng() * 8)
  const shared = sharedUsers ?? drawn
  const ids = new Set<number>()
  const accounts: Account[] = [
    { id: 0, name: '', email: '', avatarHash: '', avatarVersion: 0, invitedAt: 0, acceptedAt: 0 },
    {
      id: 1,
      name: userName(seed, 1),
      email: `${userName(seed, 1)}@example.com`,
      avatarHash: hexString(rng, 16),
      avatarVersion: 1_700_000_000 + Math.floor(rng() * 1e7),
      invitedAt: 0,
      acceptedAt: 0,
    },
  ]
  for (let i = 0; i < shared; i++) {
    let id = 0
    // plex.tv user ids: seven- and eight-digit numbers, kept by PMS for shared users.
    while (id === 0 || ids.has(id)) id = 1_000_000 + Math.floor(rng() * 90_000_000)
    ids.add(id)
    const name = userName(seed, i + 2)
    const invitedAt = startTime - Math.floor(rng() * 3 * 365 * 86_400) - 86_400
    accounts.push({
      id,
      name,
      email: `${name}@example.com`,
      avatarHash: hexString(rng, 16),
      avatarVersion: 1_700_000_000 + Math.floor(rng() * 1e7),
      invitedAt,
      acceptedAt: invitedAt + Math.floor(rng() * 86_400),
    })
  }
  const devices = DEVICE_SPECS.map((spec, i) => {
    const local = rng() < 0.7
    return {
      ...spec,
      id: i + 1,
      machineIdentifier:
        spec.product === 'Plex Web'
          ? alnumString(rng, 24)
          : `${hexString(rng, 16)}-com-plexapp-${spec.platform.toLowerCase()}`,
      address: local
        ? `192.168.1.${20 + i}`
        : `${81 + i}.${Math.floor(rng() * 200) + 20}.${Math.floor(rng() * 250)}.${Math.floor(rng() * 250)}`,
      remotePublicAddress: `${81 + i}.${Math.floor(rng() * 200) + 20}.${Math.floor(rng() * 250)}.${Math.floor(rng() * 250)}`,
      local,
    }
  })
  return { accounts, devices }
}

export function avatarUrl(account: Account): string {
  return account.avatarHash ? `https://plex.tv/users/${account.avatarHash}/avatar?c=${account.avatarVersion}` : ''
}

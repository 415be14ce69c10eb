import { intBetween, mulberry32, uuidFrom, type Rng } from '../random.js'
import { Library } from './store.js'
import { SECTION_TYPES, TYPE, type Section, type SectionType } from './types.js'

const DAY = 86_400
const YEAR = 365 * DAY

interface SectionSpec {
  id: number
  type: SectionType
  title: string
  agent: string
  scanner: string
  path: string
  hidden?: boolean
}

const SECTION_SPECS: readonly SectionSpec[] = [
  { id: 1, type: 'movie', title: 'Movies', agent: 'tv.plex.agents.movie', scanner: 'Plex Movie', path: '/data/Movies' },
  {
    id: 2,
    type: 'show',
    title: 'TV Shows',
    agent: 'tv.plex.agents.series',
    scanner: 'Plex TV Series',
    path: '/data/TV Shows',
  },
  { id: 3, type: 'artist', title: 'Music', agent: 'tv.plex.agents.music', scanner: 'Plex Music', path: '/data/Music' },
  {
    id: 4,
    type: 'photo',
    title: 'Photos',
    agent: 'com.plexapp.agents.none',
    scanner: 'Plex Photo Scanner',
    path: '/data/Photos',
  },
  {
    id: 5,
    type: 'movie',
    title: 'Documentaries',
    agent: 'tv.plex.agents.movie',
    scanner: 'Plex Movie',
    path: '/data/Documentaries',
    hidden: true,
  },
]

export const SECTION_IDS = { movies: 1, shows: 2, music: 3, photos: 4, documentaries: 5 } as const

function makeSections(rng: Rng, startTime: number): Section[] {
  return SECTION_SPECS.map((spec) => {
    const createdAt = startTime - 6 * YEAR + Math.floor(rng() * YEAR)
    return {
      id: spec.id,
      type: spec.type,
      title: spec.title,
      agent: spec.agent,
      scanner: spec.scanner,
      language: 'en-US',
      uuid: uuidFrom(rng),
      createdAt,
      updatedAt: startTime - Math.floor(rng() * 30 * DAY),
      scannedAt: startTime - Math.floor(rng() * DAY),
      contentChangedAt: 1000 + Math.floor(rng() * 90_000),
      locationId: spec.id + 10,
      path: spec.path,
      hidden: spec.hidden ?? false,
      types: SECTION_TYPES[spec.type],
    }
  })
}

/** Recent-skewed "added" time: more of a library arrives in its later years. */
function addedTime(rng: Rng, startTime: number): number {
  const age = Math.floor(rng() * rng() * 5 * YEAR) + 3600
  return startTime - age
}

/**
 * Builds the library from the seed. `items` counts live items of every type (movies,
 * shows, seasons, episodes, artists, albums, tracks, photos); a few deleted items are
 * added on top so history can hold rows for media that no longer exists.
 */
export function generateLibrary(seed: number, items: number, startTime: number): Library {
  const rng = mulberry32(seed ^ 0x5eed1)
  const sections = makeSections(rng, startTime)
  const lib = new Library(seed, sections, items + 64)

  // Deleted media first (oldest ratingKeys): a few movies and one whole show.
  const ghostMovies = Math.max(2, Math.round(items * 0.01))
  for (let i = 0; i < ghostMovies; i++) addMovie(lib, rng, SECTION_IDS.movies, startTime - 4 * YEAR, true)
  if (items >= 50) addShow(lib, rng, startTime - 4 * YEAR, startTime - 3 * YEAR, 1, 3, true)

  const tvBudget = Math.round(items * 0.5)
  const musicBudget = Math.round(items * 0.23)
  const photoBudget = Math.round(items * 0.05)
  let movieBudget = items - tvBudget - musicBudget - photoBudget

  let left = tvBudget
  while (left >= 3) {
    const seasons = Math.min(intBetween(rng(), 1, 4), Math.floor((left - 1) / 2))
    const perSeason = Math.min(intBetween(rng(), 3, 12), Math.floor((left - 1 - seasons) / seasons))
    const start = addedTime(rng, startTime)
    left -= addShow(lib, rng, start, startTime - intBetween(rng(), 600, 20 * DAY), seasons, perSeason, false)
  }
  movieBudget += left

  left = musicBudget
  while (left >= 3) {
    const albums = Math.min(intBetween(rng(), 1, 3), Math.floor((left - 1) / 2))
    const perAlbum = Math.min(intBetween(rng(), 4, 14), Math.floor((left - 1 - albums) / albums))
    left -= addArtist(lib, rng, startTime, albums, perAlbum)
  }
  movieBudget += left

  for (let i = 0; i < photoBudget; i++) {
    lib.add({
      type: TYPE.photo,
      section: SECTION_IDS.photos,
      parent: -1,
      index: 0,
      year: 2015 + Math.floor(rng() * 10),
      duration: 0,
      addedAt: addedTime(rng, startTime),
    })
  }
  const documentaries = Math.round(movieBudget * 0.15)
  for (let i = 0; i < movieBudget; i++) {
    addMovie(
      lib,
      rng,
      i < documentaries ? SECTION_IDS.documentaries : SECTION_IDS.movies,
      addedTime(rng, startTime),
      false,
    )
  }
  return lib
}

export function addMovie(
  lib: Library,
  rng: Rng,
  section: number,
  addedAt: number,
  deleted: boolean,
  title?: string,
): number {
  return lib.add({
    type: TYPE.movie,
    section,
    parent: -1,
    index: 0,
    year: intBetween(rng(), 1962, 2025),
    duration: intBetween(rng(), 80, 170) * 60_000 + Math.floor(rng() * 60_000),
    addedAt,
    deleted,
    title,
  })
}

/** Adds a show with its seasons and episodes; returns how many rows it took. */
function addShow(
  lib: Library,
  rng: Rng,
  start: number,
  end: number,
  seasons: number,
  perSeason: number,
  deleted: boolean,
): number {
  const year = intBetween(rng(), 1995, 2024)
  const epMinutes = pickEpisodeLength(rng)
  const show = lib.add({
    type: TYPE.show,
    section: SECTION_IDS.shows,
    parent: -1,
    index: 0,
    year,
    duration: epMinutes * 60_000,
    addedAt: start,
    deleted,
  })
  const episodes = seasons * perSeason
  // Episodes arrive evenly from the show's first day until `end`, so a long-running
  // show keeps producing recent additions.
  const step = Math.max(1, Math.floor((end - start) / (episodes + 1)))
  let n = 0
  let rows = 1
  for (let s = 1; s <= seasons; s++) {
    const seasonAdded = start + step * (n + 1)
    const season = lib.add({
      type: TYPE.season,
      section: SECTION_IDS.shows,
      parent: show,
      index: s,
      year: year + s - 1,
      duration: 0,
      addedAt: seasonAdded,
      deleted,
    })
    rows++
    for (let e = 1; e <= perSeason; e++) {
      n++
      lib.add({
        type: TYPE.episode,
        section: SECTION_IDS.shows,
        parent: season,
        index: e,
        year: year + s - 1,
        duration: epMinutes * 60_000 + Math.floor(rng() * 240_000),
        addedAt: Math.min(start + step * n, end),
        deleted,
      })
      rows++
    }
  }
  return rows
}

function pickEpisodeLength(rng: Rng): number {
  const r = rng()
  return r < 0.4 ? 22 : r < 0.8 ? 44 : 58
}

function addArtist(lib: Library, rng: Rng, startTime: number, albums: number, perAlbum: number): number {
  const first = addedTime(rng, startTime)
  const artist = lib.add({
    type: TYPE.artist,
    section: SECTION_IDS.music,
    parent: -1,
    index: 0,
    year: 0,
    duration: 0,
    addedAt: first,
    deleted: false,
  })
  let rows = 1
  for (let a = 1; a <= albums; a++) {
    // Albums after the first arrive later; all tracks of an album share its addedAt.
    const addedAt = a === 1 ? first : first + Math.floor(rng() * (startTime - first))
    const year = intBetween(rng(), 1970, 2025)
    const album = lib.add({
      type: TYPE.album,
      section: SECTION_IDS.music,
      parent: artist,
      index: a,
      year,
      duration: 0,
      addedAt,
      deleted: false,
    })
    rows++
    for (let t = 1; t <= perAlbum; t++) {
      lib.add({
        type: TYPE.track,
        section: SECTION_IDS.music,
        parent: album,
        index: t,
        year,
        duration: intBetween(rng(), 120, 420) * 1000,
        addedAt,
        deleted: false,
      })
      rows++
    }
  }
  return rows
}

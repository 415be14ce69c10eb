import { hash32, pick, unit } from '../random.js'

const ADJECTIVES = [
  'Silent',
  'Crimson',
  'Hidden',
  'Last',
  'Broken',
  'Golden',
  'Midnight',
  'Frozen',
  'Distant',
  'Burning',
  'Wild',
  'Hollow',
  'Electric',
  'Forgotten',
  'Lucky',
  'Velvet',
  'Iron',
  'Quiet',
  'Bright',
  'Endless',
  'Northern',
  'Savage',
  'Gentle',
  'Bitter',
  'Lonely',
  'Secret',
  'Paper',
  'Glass',
  'Scarlet',
  'Hungry',
  'Restless',
  'Little',
  'Ancient',
  'Falling',
  'Open',
  'Dark',
  'Perfect',
  'Strange',
  'Blue',
  'Final',
] as const

const NOUNS = [
  'Harbor',
  'Kingdom',
  'River',
  'Signal',
  'Empire',
  'Garden',
  'Horizon',
  'Witness',
  'Storm',
  'Machine',
  'Promise',
  'Island',
  'Frontier',
  'Shadow',
  'Letter',
  'Mountain',
  'Station',
  'Heart',
  'Circle',
  'Voyage',
  'Detective',
  'Summer',
  'Winter',
  'Orchard',
  'Engine',
  'Lantern',
  'Canyon',
  'Mirror',
  'Crossing',
  'Tide',
  'Alibi',
  'Outpost',
  'Symphony',
  'Pilot',
  'Stranger',
  'Compass',
  'Citadel',
  'Meadow',
  'Signal',
  'Archive',
] as const

const FIRST_NAMES = [
  'Ada',
  'Bruno',
  'Clara',
  'Dmitri',
  'Elena',
  'Farah',
  'Gus',
  'Hana',
  'Ivan',
  'Jonas',
  'Kira',
  'Leo',
  'Mila',
  'Nico',
  'Olga',
  'Pavel',
  'Quinn',
  'Rosa',
  'Sami',
  'Tess',
  'Uma',
  'Vera',
  'Wes',
  'Yuri',
  'Zoe',
] as const

const LAST_NAMES = [
  'Archer',
  'Bell',
  'Castro',
  'Dorsey',
  'Eriksen',
  'Fontaine',
  'Greer',
  'Holm',
  'Ibarra',
  'Jansen',
  'Kowalski',
  'Lindqvist',
  'Moreau',
  'Novak',
  'Okafor',
  'Petrov',
  'Quist',
  'Rahman',
  'Sato',
  'Tanaka',
] as const

export const MOVIE_GENRES = [
  'Action',
  'Drama',
  'Comedy',
  'Thriller',
  'Science Fiction',
  'Animation',
  'Documentary',
  'Romance',
  'Horror',
  'Adventure',
  'Crime',
  'Fantasy',
] as const
export const MUSIC_GENRES = ['Rock', 'Electronic', 'Jazz', 'Pop', 'Hip-Hop', 'Classical', 'Folk', 'Soul'] as const
export const STUDIOS = [
  'Blender Foundation',
  'Northlight Pictures',
  'Harbor Films',
  'Kestrel Studios',
  'Paper Moon',
  'Aurora Entertainment',
  'Ironwood Media',
] as const
export const MOVIE_RATINGS = ['G', 'PG', 'PG-13', 'R', 'NR'] as const
export const TV_RATINGS = ['TV-Y', 'TV-PG', 'TV-14', 'TV-MA'] as const
export const COUNTRIES = [
  'United States of America',
  'United Kingdom',
  'France',
  'Japan',
  'Netherlands',
  'Germany',
] as const
export const LABELS = ['Reprise Records', 'Blue Note', 'Sub Pop', 'Warp', 'Domino', 'Ninja Tune'] as const

/** Deterministic pseudo-words for titles: `salt` separates title kinds for the same item. */
export function phrase(seed: number, id: number, salt: number): string {
  const h1 = hash32(seed, id, salt)
  const h2 = hash32(seed, id, salt + 1)
  const shape = h1 % 5
  const adj = pick(ADJECTIVES, unit(h2))
  const noun = pick(NOUNS, unit(hash32(seed, id, salt + 2)))
  switch (shape) {
    case 0:
      return `The ${adj} ${noun}`
    case 1:
      return `${adj} ${noun}`
    case 2:
      return `${noun} of the ${adj} ${pick(NOUNS, unit(hash32(seed, id, salt + 3)))}`
    case 3:
      return `The ${noun}`
    default:
      return noun.endsWith('s') ? `${adj} ${noun}` : `${adj} ${noun}s`
  }
}

export function personName(seed: number, id: number, salt: number): string {
  return `${pick(FIRST_NAMES, unit(hash32(seed, id, salt)))} ${pick(LAST_NAMES, unit(hash32(seed, id, salt + 1)))}`
}

export function userName(seed: number, index: number): string {
  const first = pick(FIRST_NAMES, unit(hash32(seed, index, 901)))
  return `${first.toLowerCase()}${index}`
}

const SENTENCE_OPENERS = [
  'When a stranger arrives in town,',
  'After years of silence,',
  'On the eve of a storm,',
  'Against every warning,',
  'In a city that never sleeps,',
  'With nothing left to lose,',
] as const
const SENTENCE_ENDINGS = [
  'an unlikely friendship changes everything.',
  'old secrets come back to haunt a quiet family.',
  'a reluctant hero must choose between duty and love.',
  'the truth turns out to be stranger than fiction.',
  'two rivals race against time to save what they love.',
  'a small mistake becomes a very large problem.',
] as const

export function summary(seed: number, id: number): string {
  return `${pick(SENTENCE_OPENERS, unit(hash32(seed, id, 701)))} ${pick(SENTENCE_ENDINGS, unit(hash32(seed, id, 702)))}`
}

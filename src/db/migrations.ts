import type { Database } from 'better-sqlite3'

export interface Migration {
  readonly version: number
  readonly name: string
  readonly sql: string
}

/**
 * The schema, as an ordered list: never edit an applied migration, append a new one.
 * Times are unix milliseconds, except watch_history.viewed_at, which keeps Plex's unix seconds.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE services (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL,
        url           TEXT NOT NULL,
        type          TEXT NOT NULL CHECK (type IN ('app', 'website', 'panel', 'project', 'server')),
        status        TEXT NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'offline', 'problem')),
        last_check    INTEGER,
        response_time REAL,
        description   TEXT,
        icon          TEXT,
        "group"       TEXT,
        created_at    INTEGER NOT NULL
      );

      CREATE TABLE traffic_samples (
        id             INTEGER PRIMARY KEY,
        service_id     TEXT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
        at             INTEGER NOT NULL,
        bandwidth_up   REAL NOT NULL,
        bandwidth_down REAL NOT NULL,
        total_up       REAL NOT NULL,
        total_down     REAL NOT NULL,
        max_bandwidth  REAL,
        cpu_percent    REAL,
        memory_percent REAL
      );
      CREATE INDEX traffic_samples_by_service_time ON traffic_samples (service_id, at);
      CREATE INDEX traffic_samples_by_time ON traffic_samples (at);

      CREATE TABLE plex_stats (
        id              INTEGER PRIMARY KEY CHECK (id = 1),
        peak_concurrent INTEGER NOT NULL DEFAULT 0 CHECK (peak_concurrent >= 0),
        last_updated    INTEGER
      );
      INSERT INTO plex_stats (id, peak_concurrent, last_updated) VALUES (1, 0, NULL);

      CREATE TABLE settings (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );

      CREATE TABLE watch_history (
        id                 INTEGER PRIMARY KEY,
        user_id            INTEGER,
        user_name          TEXT,
        type               TEXT,
        title              TEXT NOT NULL DEFAULT '',
        grandparent_title  TEXT,
        parent_index       INTEGER,
        "index"            INTEGER,
        viewed_at          INTEGER NOT NULL,
        duration           INTEGER,
        view_offset        INTEGER,
        progress           REAL,
        view_count         INTEGER,
        rating             REAL,
        year               INTEGER,
        thumb              TEXT,
        content_rating     TEXT,
        studio             TEXT,
        summary            TEXT,
        genres             TEXT NOT NULL DEFAULT '[]',
        rating_key         TEXT,
        history_key        TEXT,
        library_section_id TEXT
      );
      -- Plex drops ratingKey from rows of deleted items and has no user on some rows: an item is
      -- its ratingKey, else its historyKey, and a missing user counts as one user (-1), so that
      -- re-syncing the same rows never duplicates them (NULLs are all distinct in a plain UNIQUE).
      CREATE UNIQUE INDEX watch_history_one_view
        ON watch_history (COALESCE(user_id, -1), COALESCE(rating_key, history_key, ''), viewed_at);
      CREATE INDEX watch_history_by_time ON watch_history (viewed_at DESC);
      CREATE INDEX watch_history_by_user_time ON watch_history (user_id, viewed_at DESC);
    `,
  },
  {
    version: 2,
    name: 'viewer accounts',
    // password_hash is `scrypt$N$r$p$salt$hash` (base64url): never the password.
    sql: `
      CREATE TABLE viewers (
        username        TEXT PRIMARY KEY,
        password_hash   TEXT NOT NULL,
        plex_account_id INTEGER NOT NULL,
        created_at      INTEGER NOT NULL
      );
    `,
  },
]

/** Applies every migration newer than the database, each in its own transaction; returns how many ran. */
export function migrate(db: Database, list: readonly Migration[] = migrations): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`)
  const current = (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations').get() as { v: number }).v
  const newest = list.reduce((max, m) => Math.max(max, m.version), 0)
  if (current > newest) {
    throw new Error(`The database is at schema version ${current} but this build knows only up to ${newest}: run a newer komandorr-cache or point DATABASE_PATH at another file`)
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
  let applied = 0
  for (const migration of [...list].sort((a, b) => a.version - b.version)) {
    if (migration.version <= current) continue
    // IMMEDIATE takes the write lock first, so two processes starting together cannot both migrate.
    db.transaction(() => {
      const again = db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(migration.version)
      if (again) return
      db.exec(migration.sql)
      record.run(migration.version, migration.name, Date.now())
      applied++
    }).immediate()
  }
  return applied
}

-- Alleycat's history database, schema version 1.
--
-- `alleycat board` writes this file; `alleycat history` and the dashboard
-- read it. It is an ordinary SQLite database in WAL mode: open it with the
-- stock shell (`sqlite3 alleycat.db`) while Alleycat runs, and try
--
--     .schema                      -- these tables, as the database holds them
--     PRAGMA user_version;         -- the schema version (1 for this file)
--
-- Conventions used in every table:
--   * *_ms columns are Unix epoch milliseconds (UTC); to read one, use
--     datetime(ended_ms / 1000, 'unixepoch').
--   * score and output are integers in 1/10000 units of the bike's output,
--     so 1670400 is 167.04; to read one, use score / 10000.0.
--   * Names are stored exactly as the bikes sent them: UTF-8 that may hold
--     anything, control characters included. Alleycat cleans them up only
--     when it draws them, so take care when printing them yourself.
--   * A second is a race second, counted from 1.
--   * Ranks are never stored. Racers rank by score, highest first, and
--     ties go to the lower racer_id, so a late record never means ranks
--     have to be rewritten. Example: the results of race 5400802 in order:
--
--     SELECT row_number() OVER (ORDER BY score DESC, racer_id) AS rank,
--            racer_id, name, score / 10000.0 AS score
--       FROM results JOIN racers USING (racer_id)
--      WHERE race_id = 5400802 ORDER BY score DESC, racer_id;
--
-- Alleycat runs this file once, in one transaction, on a new database.
-- Later versions will add steps that migrate a version 1 database.
-- Alleycat does not open a database whose user_version is newer than the
-- versions it knows.

-- The racing classes (1 to 6: Rookie ... Legend).
CREATE TABLE classes (
	class_id INTEGER PRIMARY KEY,   -- the classId of the records
	name TEXT                       -- display name; NULL until Alleycat stores one
);

-- Every racer seen in a finished race or in a late record.
CREATE TABLE racers (
	racer_id INTEGER PRIMARY KEY,   -- the racerId of the records
	name TEXT NOT NULL              -- the latest name the racer sent ('' when none)
);

-- Name search and lists in name order. LIKE ignores ASCII case, and so
-- does this index's order.
CREATE INDEX racers_by_name ON racers (name COLLATE NOCASE, racer_id);

-- Finished races: one row per race. A race is added when it ends. If a
-- record turns up for a race that was never stored, the race is added
-- then, with the times that are unknown left NULL.
CREATE TABLE races (
	race_id INTEGER PRIMARY KEY,    -- the raceId of the records
	class_id INTEGER NOT NULL REFERENCES classes (class_id),
	duration INTEGER,               -- planned length in seconds (e.g. 300); NULL when unknown
	started_ms INTEGER,             -- arrival of the race's first record; NULL when unknown
	ended_ms INTEGER NOT NULL,      -- when the race ended (or its first late record arrived)
	racers INTEGER NOT NULL DEFAULT 0       -- how many rows it has in results
);

-- Past races, newest first, for all classes or for one class.
CREATE INDEX races_by_end ON races (ended_ms DESC, race_id DESC);
CREATE INDEX races_by_class ON races (class_id, ended_ms DESC, race_id DESC);

-- Each racer's result in a finished race. A record can come twice, or turn
-- up after its race has ended. Either way it is merged in, and doing that
-- twice changes nothing: score only goes up, and output, cadence,
-- resistance and second are replaced only by a later second.
CREATE TABLE results (
	race_id INTEGER NOT NULL REFERENCES races (race_id),
	racer_id INTEGER NOT NULL REFERENCES racers (racer_id),
	score INTEGER NOT NULL,         -- the best output over the race: what racers rank by
	output INTEGER NOT NULL,        -- output at the racer's last second
	cadence REAL NOT NULL,          -- rpm at the racer's last second
	resistance REAL NOT NULL,       -- percent at the racer's last second
	second INTEGER NOT NULL,        -- the racer's last second
	ended_ms INTEGER NOT NULL,      -- a copy of races.ended_ms, so that a racer's
	                                -- races come newest first straight from an index
	PRIMARY KEY (race_id, racer_id)
) WITHOUT ROWID;

-- One race's results in rank order; the winner is the first row.
CREATE INDEX results_by_rank ON results (race_id, score DESC, racer_id);
-- One racer's races, newest first (score is here to count the rank).
CREATE INDEX results_by_racer ON results (racer_id, ended_ms DESC, race_id DESC, score);

-- The class leaderboard: each racer's best score in each class. A score
-- replaces the best only when it is greater, so on a tie the earlier race
-- keeps the record.
CREATE TABLE personal_bests (
	class_id INTEGER NOT NULL REFERENCES classes (class_id),
	racer_id INTEGER NOT NULL REFERENCES racers (racer_id),
	score INTEGER NOT NULL,         -- the best score in this class
	race_id INTEGER NOT NULL REFERENCES races (race_id),    -- where it was ridden
	achieved_ms INTEGER NOT NULL,   -- that race's ended_ms
	PRIMARY KEY (class_id, racer_id)
) WITHOUT ROWID;

-- A class's leaderboard, best first, one page at a time (LIMIT/OFFSET).
CREATE INDEX personal_bests_by_score ON personal_bests (class_id, score DESC, racer_id, race_id);

-- The class record at each second of a race: the highest output any racer
-- of the class has reached at that second. The live view gives a trophy to
-- a racer who beats it. Only a greater output replaces a record.
CREATE TABLE second_bests (
	class_id INTEGER NOT NULL REFERENCES classes (class_id),
	second INTEGER NOT NULL,        -- race second, from 1
	output INTEGER NOT NULL,        -- the record output at that second
	racer_id INTEGER NOT NULL,      -- who holds the record
	race_id INTEGER NOT NULL,       -- and in which race
	PRIMARY KEY (class_id, second)
) WITHOUT ROWID;

-- Races still being ridden, one row per consumer (the --consumer name of
-- `alleycat board`) and race. state is the ranking engine's own binary
-- snapshot of the race, not meant to be read here. Every window (15 s by
-- default) the consumer rewrites these rows and its checkpoints in one
-- transaction. It deletes a race's row in the same transaction that
-- writes the race to races and results.
CREATE TABLE live_races (
	consumer TEXT NOT NULL,
	race_id INTEGER NOT NULL,
	state BLOB NOT NULL,
	PRIMARY KEY (consumer, race_id)
) WITHOUT ROWID;

-- Every race a consumer has seen, whether live or finished, since it
-- first ran with this database: what `board --until-finished` prints.
CREATE TABLE races_seen (
	consumer TEXT NOT NULL,
	race_id INTEGER NOT NULL,
	PRIMARY KEY (consumer, race_id)
) WITHOUT ROWID;

-- Where a consumer got to in each shard of a stream. A consumer that
-- restarts reads from the record after sequence_number, and the
-- live_races rows written in the same transaction already count every
-- record up to it, so nothing is lost and nothing counts twice.
-- sequence_number is 'SHARD_END' for a closed shard read to its end (as
-- the Kinesis Client Library writes it): a restarted consumer goes
-- straight to that shard's children.
CREATE TABLE checkpoints (
	stream TEXT NOT NULL,           -- the stream name
	consumer TEXT NOT NULL,
	shard_id TEXT NOT NULL,         -- e.g. shardId-000000000000
	sequence_number TEXT NOT NULL,  -- a decimal string (too large for INTEGER), or SHARD_END
	updated_ms INTEGER NOT NULL,    -- when it was last written
	PRIMARY KEY (stream, consumer, shard_id)
) WITHOUT ROWID;

PRAGMA user_version = 1;

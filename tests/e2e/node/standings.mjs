// Final standings as the ranking rules make them from the records a
// simulator sent (its --dump): what every consumer test compares against.
import assert from 'node:assert/strict';

/** Output in 1/10000 units, as Alleycat computes it. */
function output(rec) {
	return Math.round(100 * (rec.cadence + 35) * (rec.resistance + 65));
}

/** Final standings from the records sent: the ranking rules applied to the dump. */
export function reference(lines) {
	const races = new Map();
	for (const line of lines) {
		const rec = JSON.parse(line);
		if (!races.has(rec.raceId)) races.set(rec.raceId, new Map());
		const racers = races.get(rec.raceId);
		const out = output(rec);
		const r = racers.get(rec.racerId) ?? { racerId: rec.racerId, name: rec.name, score: 0, second: 0 };
		r.score = Math.max(r.score, out);
		if (rec.second > r.second) {
			Object.assign(r, { second: rec.second, output: out, cadence: rec.cadence,
				resistance: rec.resistance, name: rec.name });
		}
		racers.set(rec.racerId, r);
	}
	const result = new Map();
	for (const [raceId, racers] of races) {
		const list = [...racers.values()].sort((a, b) => b.score - a.score || a.racerId - b.racerId);
		result.set(raceId, list.map((r, i) => ({
			rank: i + 1, racerId: r.racerId, name: r.name, score: r.score / 10000,
			output: r.output / 10000, cadence: r.cadence, resistance: r.resistance,
			second: r.second, gap: (list[0].score - r.score) / 10000,
		})));
	}
	return result;
}

/** Checks a board's --until-finished JSON against the reference. */
export function compare(got, expected, duration = 60) {
	assert.equal(got.races.length, expected.size, 'one entry per race sent');
	for (const race of got.races) {
		assert.equal(race.status, 'finished');
		assert.equal(race.duration, duration);
		assert.deepEqual(race.racers, expected.get(race.raceId), `race ${race.raceId}`);
	}
}


/**
 * One contender of the data-directory lock race: `node lock-racer.ts <dataDir> <startAtEpochMs>`.
 * Waits for the common start time, tries the lock, prints `won` or `lost <error name>`, and holds a won
 * lock until its stdin ends (the test ends it once every contender has tried, however late it started).
 */
import { lockDataDir } from '../../../src/local/runtime/data-dir-lock.ts';

const [dataDir, startAt] = process.argv.slice(2);
if (dataDir === undefined || startAt === undefined)
  throw new Error('usage: lock-racer.ts <dataDir> <startAt>');
while (Date.now() < Number(startAt)) await new Promise((resolve) => setTimeout(resolve, 1));
try {
  const release = await lockDataDir(dataDir);
  process.stdout.write('won\n');
  await new Promise((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.resume();
  });
  await release();
} catch (error) {
  process.stdout.write(`lost ${(error as Error).name}\n`);
}

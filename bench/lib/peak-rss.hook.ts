/**
 * Preloaded into a measured child (`node --import tsx --import bench/lib/peak-rss.hook.ts …`): at exit,
 * writes the process's peak resident set size in bytes to BENCH_PEAK_RSS_FILE. Changes nothing else.
 */
import fs from 'node:fs';

const file = process.env.BENCH_PEAK_RSS_FILE;
if (file) {
  process.on('exit', () => {
    // maxRSS is in kilobytes.
    fs.writeFileSync(file, String(process.resourceUsage().maxRSS * 1024));
  });
}

// A Node.js service under oomguard: frees memory when oomguard asks.
//
// It keeps a cache of 4 KiB arrays in V8's heap and replaces a fifth of
// it every second. V8 collects the old generation only when its own
// heuristics say so, well above what the app holds.
//
// On oomguard's request it runs a full collection: global.gc(), which
// exists only with `node --expose-gc`. The request must be SIGUSR2
// (oomguard --gc-signal SIGUSR2, or OOMGUARD_GC_SIGNAL=SIGUSR2): Node uses
// SIGUSR1 to start its debugger (inspector) and must never get it from
// oomguard, and SIGUSR2 without a handler would terminate the process.
// Node runs signal listeners on the event loop, not in the raw signal
// context, so the listener may do real work.
//
// Environment: NODEAPP_TARGET_MIB (cache size, default 64), NODEAPP_SECONDS
// (exit 0 after that many seconds; 0 runs until SIGTERM).
'use strict';

const ENTRY_DOUBLES = 512; // 4 KiB of doubles per entry
const started = process.hrtime.bigint();
const mib = (b) => (b / 1048576).toFixed(1);
const log = (msg) => {
  const t = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`t=${t.toFixed(1)}s ${msg}`);
};

if (typeof global.gc !== 'function') {
  console.error('app.js: run it as `node --expose-gc app.js` to handle gc requests');
  process.exit(2);
}

process.on('SIGUSR2', () => {
  const before = process.memoryUsage();
  global.gc();
  const after = process.memoryUsage();
  log(`gc request (SIGUSR2): global.gc() freed ${mib(before.heapUsed - after.heapUsed)}MiB ` +
      `of heap (${mib(before.heapUsed)}MiB -> ${mib(after.heapUsed)}MiB), ` +
      `rss ${mib(before.rss)}MiB -> ${mib(after.rss)}MiB`);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    log(`${sig}: exiting cleanly`);
    process.exit(0);
  });
}

const target = Number(process.env.NODEAPP_TARGET_MIB || 64) * 1048576;
const seconds = Number(process.env.NODEAPP_SECONDS || 0);
const n = Math.floor(target / (ENTRY_DOUBLES * 8));
const entry = (k) => new Array(ENTRY_DOUBLES).fill(k + 0.5);
const cache = [];
for (let i = 0; i < n; i++) cache.push(entry(i));
let key = n;
log(`pid ${process.pid}, cache ${mib(target)}MiB in ${n} entries`);

const timer = setInterval(() => {
  for (let i = 0; i < n / 5; i++, key++) cache[key % n] = entry(key);
  const m = process.memoryUsage();
  log(`cache ${n} entries, heap used ${mib(m.heapUsed)}MiB, rss ${mib(m.rss)}MiB`);
  if (seconds > 0 && Number(process.hrtime.bigint() - started) / 1e9 >= seconds) {
    clearInterval(timer);
  }
}, 1000);

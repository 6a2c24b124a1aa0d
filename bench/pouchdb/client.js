'use strict';
// The measured side: a fresh on-disk PouchDB that pulls the whole `records`
// database from the server with one one-shot PouchDB.replicate(remote, local).
// Run as a forked child of run.js so that its memory is its own; sends one
// {type:'result', ...} message to the parent over IPC and exits.
// argv: <remote url> <local db dir> <expected count> [batch_size] [batches_limit]

const fs = require('fs');
const PouchDB = require('pouchdb');

const [remoteUrl, localDir, expectedStr, batchSizeStr, batchesLimitStr] = process.argv.slice(2);
const expected = Number(expectedStr);
const log = (...a) => console.error('[client]', ...a);

function statusKb(field) {
  // VmHWM: peak resident set size of this process, as the kernel counts it.
  const m = fs.readFileSync('/proc/self/status', 'utf8').match(new RegExp('^' + field + ':\\s+(\\d+) kB', 'm'));
  return m ? Number(m[1]) : null;
}

async function main() {
  let sampledPeak = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    const rss = process.memoryUsage().rss;
    if (rss > sampledPeak) sampledPeak = rss;
  }, 50);
  sampler.unref();

  const local = new PouchDB(localDir);
  const remote = new PouchDB(remoteUrl);
  await local.info(); // open the leveldb store before the clock starts
  const baselineRssMb = process.memoryUsage().rss / 1048576;

  const opts = {};
  if (batchSizeStr) opts.batch_size = Number(batchSizeStr);
  if (batchesLimitStr) opts.batches_limit = Number(batchesLimitStr);

  log(`replicating ${remoteUrl} -> ${localDir} (batch_size ${opts.batch_size || 100}, batches_limit ${opts.batches_limit || 10})`);
  const t0 = process.hrtime.bigint();
  let lastLog = Date.now();
  const rep = PouchDB.replicate(remote, local, opts);
  rep.on('change', (info) => {
    if (Date.now() - lastLog > 5000) {
      lastLog = Date.now();
      log(`docs_written ${info.docs_written}`);
    }
  });
  const result = await rep; // one-shot: resolves on 'complete', rejects on error
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;

  const info = await local.info();
  const vmHwmKb = statusKb('VmHWM');
  clearInterval(sampler);
  const rssNow = process.memoryUsage().rss;
  if (rssNow > sampledPeak) sampledPeak = rssNow;
  await local.close();
  await remote.close();

  log(`replication ${result.status}: docs_read ${result.docs_read}, docs_written ${result.docs_written}, ` +
      `doc_write_failures ${result.doc_write_failures}, ${seconds.toFixed(2)} s; local doc_count ${info.doc_count}`);
  const ok = result.ok && info.doc_count === expected;
  if (!ok) log(`VERIFY FAILED: local doc_count ${info.doc_count}, expected ${expected}`);
  await sendMsg({
    type: 'result',
    ok,
    seconds,
    doc_count: info.doc_count,
    docs_read: result.docs_read,
    docs_written: result.docs_written,
    doc_write_failures: result.doc_write_failures,
    vm_hwm_mb: vmHwmKb / 1024,
    sampled_peak_rss_mb: sampledPeak / 1048576,
    baseline_rss_mb: baselineRssMb,
  });
}

function sendMsg(msg) {
  return new Promise((resolve) => process.send(msg, () => resolve()));
}

main().then(
  () => process.disconnect(),
  async (e) => {
    log('error:', e && e.stack ? e.stack : e);
    process.exitCode = 1;
    try {
      await sendMsg({ type: 'error', message: String(e && e.message ? e.message : e) });
    } catch (_) { /* parent gone */ }
    process.disconnect();
  }
);

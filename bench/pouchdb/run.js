#!/usr/bin/env node
'use strict';
// PouchDB peer benchmark: pull-replicate N records from an express-pouchdb
// server into a fresh on-disk PouchDB, in separate server and client processes.
// Prints one JSON line on stdout; everything else goes to stderr.
//
//   node run.js --records FILE.jsonl [--load-batch 1000] [--batch-size 100]
//               [--batches-limit 10] [--no-compression] [--keep]
//
// See README.md.

const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const { fork } = require('child_process');

const log = (...a) => console.error('[run]', ...a);

function usage(msg) {
  if (msg) console.error(`run.js: ${msg}`);
  console.error('usage: node run.js --records FILE.jsonl [--load-batch N] [--batch-size N] ' +
    '[--batches-limit N] [--no-compression] [--keep]');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { loadBatch: 1000, batchSize: null, batchesLimit: null, noCompression: false, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    const num = () => {
      const n = Number(val());
      if (!Number.isInteger(n) || n <= 0) usage(`${a} needs a positive integer`);
      return n;
    };
    if (a === '--records') o.records = val();
    else if (a.startsWith('--records=')) o.records = a.slice(10);
    else if (a === '--load-batch') o.loadBatch = num();
    else if (a === '--batch-size') o.batchSize = num();
    else if (a === '--batches-limit') o.batchesLimit = num();
    else if (a === '--no-compression') o.noCompression = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  if (!o.records) usage('--records FILE is required');
  return o;
}

// Count records and their mean serialized size (UTF-8 bytes of each line,
// without the newline) the same way the server will read them.
async function fileStats(file) {
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  let count = 0;
  let bytes = 0;
  for await (const line of rl) {
    if (line.trim() === '') continue;
    count++;
    bytes += Buffer.byteLength(line, 'utf8');
  }
  return { count, bytes };
}

// ---------- child process plumbing ----------

const children = new Set();
let tmpDir = null;
let keepTmp = false;

function cleanup() {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try { c.kill('SIGKILL'); } catch (_) { /* already gone */ }
    }
  }
  children.clear();
  if (tmpDir && !keepTmp) {
    try { fs.rmSync(tmpDir, { recursive: true, force: true }); } catch (e) { log(`could not remove ${tmpDir}: ${e.message}`); }
    tmpDir = null;
  } else if (tmpDir) {
    log(`kept ${tmpDir}`);
  }
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    log(`caught ${sig}, cleaning up`);
    cleanup();
    process.exit(130);
  });
}

function spawnChild(script, args) {
  // Child stdout -> our stderr, so our stdout carries only the result line.
  const child = fork(path.join(__dirname, script), args, {
    stdio: ['ignore', 2, 2, 'ipc'],
    cwd: tmpDir,
  });
  children.add(child);
  child.waiting = [];
  child.on('message', (msg) => {
    if (msg && msg.type === 'error') {
      const w = child.waiting.shift();
      if (w) w.reject(new Error(`${script}: ${msg.message}`));
      return;
    }
    const idx = child.waiting.findIndex((w) => w.type === msg.type);
    if (idx >= 0) child.waiting.splice(idx, 1)[0].resolve(msg);
  });
  child.on('exit', (code, signal) => {
    children.delete(child);
    for (const w of child.waiting.splice(0)) {
      w.reject(new Error(`${script} exited (code ${code}, signal ${signal}) while waiting for '${w.type}'`));
    }
  });
  return child;
}

function expect(child, type) {
  return new Promise((resolve, reject) => child.waiting.push({ type, resolve, reject }));
}

function request(child, msg, type) {
  const p = expect(child, type);
  child.send(msg);
  return p;
}

const round = (x, d) => Math.round(x * 10 ** d) / 10 ** d;

async function main() {
  const o = parseArgs(process.argv.slice(2));
  keepTmp = o.keep;
  const recordsFile = path.resolve(o.records);
  if (!fs.existsSync(recordsFile)) usage(`no such file: ${recordsFile}`);

  const stats = await fileStats(recordsFile);
  if (stats.count === 0) usage(`${recordsFile} has no records`);
  log(`${stats.count} records, mean ${round(stats.bytes / stats.count, 1)} bytes/line`);

  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pocketbook-pouchdb-bench-'));
  const serverDir = path.join(tmpDir, 'server');
  const clientDir = path.join(tmpDir, 'client');
  fs.mkdirSync(clientDir, { recursive: true });
  log(`temp dir ${tmpDir}`);

  // 1. server process
  const server = spawnChild('server.js', [serverDir]);

  // 2. untimed load (bulkDocs, o.loadBatch docs per call), then listen
  const loaded = await request(server, { cmd: 'load', file: recordsFile, batch: o.loadBatch }, 'loaded');
  if (loaded.count !== stats.count) throw new Error(`server loaded ${loaded.count} records, file has ${stats.count}`);
  const { port } = await request(server, { cmd: 'listen', noCompression: o.noCompression }, 'listening');
  await request(server, { cmd: 'reset' }, 'reset');

  // 3. client process: one-shot pull replication, timed inside the client
  const remoteUrl = `http://127.0.0.1:${port}/records`;
  const clientArgs = [remoteUrl, path.join(clientDir, 'records'), String(stats.count),
    o.batchSize ? String(o.batchSize) : '', o.batchesLimit ? String(o.batchesLimit) : ''];
  const client = spawnChild('client.js', clientArgs);
  const res = await expect(client, 'result');
  const clientExit = new Promise((resolve) => client.once('exit', resolve));
  // Server-side socket counters once the replication is over.
  const { wire } = await request(server, { cmd: 'report' }, 'report');
  if (client.exitCode === null) await clientExit;

  if (!res.ok) throw new Error(`verification failed: local doc_count ${res.doc_count}, expected ${stats.count}`);
  log(`wire: ${JSON.stringify(wire)}`);
  log(`client: VmHWM ${round(res.vm_hwm_mb, 1)} MB, sampled peak RSS ${round(res.sampled_peak_rss_mb, 1)} MB, ` +
      `RSS before replication ${round(res.baseline_rss_mb, 1)} MB`);

  const out = {
    peer: 'pouchdb',
    records: stats.count,
    seconds: round(res.seconds, 3),
    records_per_s: round(stats.count / res.seconds, 1),
    client_peak_rss_mb: round(res.vm_hwm_mb, 1),
    wire_bytes: wire.server_to_client_bytes,
    wire_bytes_per_record: round(wire.server_to_client_bytes / stats.count, 1),
    json_bytes_per_record: round(stats.bytes / stats.count, 1),
    // extras (not part of the common schema)
    wire_bytes_client_to_server: wire.client_to_server_bytes,
    http_requests: wire.requests,
    content_encoding: wire.content_encoding,
    compression: !o.noCompression,
    client_rss_before_replication_mb: round(res.baseline_rss_mb, 1),
    batch_size: o.batchSize || 100,
    batches_limit: o.batchesLimit || 10,
  };
  process.stdout.write(JSON.stringify(out) + '\n');

  server.kill('SIGTERM');
}

main().then(
  () => { cleanup(); },
  (e) => {
    log('error:', e && e.stack ? e.stack : e);
    cleanup();
    process.exit(1);
  }
);

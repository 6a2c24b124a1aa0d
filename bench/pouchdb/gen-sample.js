#!/usr/bin/env node
'use strict';
// Test-only generator: writes N synthetic records of about 600 bytes each to a
// JSONL file, for exercising run.js. The real benchmark feeds the records the
// Rust benchmark pulls.
//
//   node gen-sample.js N OUT.jsonl [--bytes 600] [--seed 1]

const fs = require('fs');

const args = process.argv.slice(2);
const pos = [];
let target = 600;
let seed = 1;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--bytes') target = Number(args[++i]);
  else if (args[i] === '--seed') seed = Number(args[++i]);
  else pos.push(args[i]);
}
const n = Number(pos[0]);
const out = pos[1];
if (!Number.isInteger(n) || n <= 0 || !out || !(target > 200)) {
  console.error('usage: node gen-sample.js N OUT.jsonl [--bytes 600] [--seed 1]');
  process.exit(2);
}

// mulberry32: small deterministic PRNG so runs are repeatable.
let s = seed >>> 0;
function rand() {
  s = (s + 0x6D2B79F5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rand() * a.length)];
const hex = (len) => {
  let h = '';
  while (h.length < len) h += Math.floor(rand() * 0x100000000).toString(16).padStart(8, '0');
  return h.slice(0, len);
};
const uuid = () => {
  const h = hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
};

const vocab = ('young person seen near the station with two friends appeared calm spoke about school ' +
  'home family worker contacted agreed follow up visit next week reported missing returned safe ' +
  'officer advised parent carer informed concern raised about late nights bus stop shopping centre ' +
  'park bench library football pitch youth club chip shop corner alley canal path estate tower block ' +
  'smelled of cannabis no offence disclosed referral made social care duty team safeguarding plan ' +
  'vulnerable exploited county lines phone seized returned to address asked to move on compliant ' +
  'polite upset tearful angry refused details gave false name later confirmed identity by photo ' +
  'weather cold rain dark lit well busy quiet crowd group of four five older males car parked nearby ' +
  'registration noted intelligence submitted supervisor aware welfare check completed no further action').split(' ');
const places = ['Market Street', 'Canal Walk', 'Northgate Park', 'Station Approach', 'Elm Tree Estate',
  'Riverside Library', 'High Street bus stop', 'Oakfield School gates', 'Central Shopping Centre', 'Mill Lane'];
const kinds = ['stop_account', 'welfare_check', 'missing_return', 'intelligence', 'engagement', 'referral'];
const outcomes = ['no_further_action', 'referral_made', 'returned_home', 'advice_given', 'intel_submitted'];
const tagsAll = ['night', 'school', 'exploitation', 'missing', 'drugs', 'family', 'group', 'positive'];

function words(k) {
  const w = [];
  for (let i = 0; i < k; i++) w.push(pick(vocab));
  const t = w.join(' ');
  return t.charAt(0).toUpperCase() + t.slice(1) + '.';
}

const fd = fs.openSync(out, 'w');
const t0 = Date.parse('2026-01-01T00:00:00Z');
let buf = [];
let total = 0;
for (let i = 0; i < n; i++) {
  const rec = {
    id: uuid(),
    kind: pick(kinds),
    young_person_id: uuid(),
    officer_id: `officer-${1000 + Math.floor(rand() * 400)}`,
    device_id: `device-${hex(12)}`,
    recorded_at: new Date(t0 + Math.floor(rand() * 300 * 86400e3)).toISOString(),
    location: { place: pick(places), lat: Number((51.4 + rand() * 0.2).toFixed(5)), lon: Number((-0.2 + rand() * 0.3).toFixed(5)) },
    outcome: pick(outcomes),
    tags: [pick(tagsAll), pick(tagsAll)],
    version: 1,
    notes: '',
  };
  // Fill notes with sentences until the serialized line reaches ~target bytes.
  let line = JSON.stringify(rec);
  while (line.length < target - 20) {
    rec.notes += (rec.notes ? ' ' : '') + words(4 + Math.floor(rand() * 8));
    line = JSON.stringify(rec);
  }
  if (line.length > target + 40) {
    rec.notes = rec.notes.slice(0, Math.max(0, rec.notes.length - (line.length - target))).trimEnd();
    line = JSON.stringify(rec);
  }
  total += Buffer.byteLength(line);
  buf.push(line);
  if (buf.length >= 5000) {
    fs.writeSync(fd, buf.join('\n') + '\n');
    buf = [];
  }
}
if (buf.length) fs.writeSync(fd, buf.join('\n') + '\n');
fs.closeSync(fd);
console.error(`wrote ${n} records to ${out}, mean ${(total / n).toFixed(1)} bytes/line`);

#!/usr/bin/env node
// Verifies an audit log export outside the service: plain Node (18+), no dependencies.
//
//   node scripts/verify-audit-export.mjs <export.ndjson>
//     [--checkpoint <file.json>]...   checkpoints to check against (a POST /audit-logs/checkpoints
//                                     answer, an array of them, a GET /audit-logs/checkpoints page,
//                                     or an archive's .anchor.json)
//     [--public-key <key>]            the signing key to trust: a PEM file, the JSON of
//                                     GET /audit-logs/public-key, or its raw base64
//
// It recomputes every entry's hash (docs/audit-chain.md), checks that seq has no gap and that each
// prev_hash is the previous entry's hash, that the first entry links to the genesis hash (seq 1)
// or to a given checkpoint of the seq before it (an archive anchor), and that every given
// checkpoint is signed (Ed25519 over `seq.hash.signed_at`) by the trusted key and, where its seq
// is in the file, names that entry's hash. Exit status 0: verified; 1: broken (the first broken
// seq is printed); 2: wrong usage or unreadable input.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const GENESIS_HASH = '0'.repeat(64);
const FORMAT = 'customer-access/audit-log/v1';
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function usage(message) {
  console.error(
    `${message}\nUsage: node scripts/verify-audit-export.mjs <export.ndjson> ` +
      '[--checkpoint <file.json>]... [--public-key <pem file | public-key json | base64>]',
  );
  process.exit(2);
}

function parseArguments(argv) {
  const options = { file: undefined, checkpoints: [], publicKey: undefined };
  for (let i = 0; i < argv.length; i++) {
    const argument = argv[i];
    if (argument === '--checkpoint' || argument === '--public-key') {
      const value = argv[++i];
      if (value === undefined) usage(`${argument} needs a value.`);
      if (argument === '--checkpoint') options.checkpoints.push(value);
      else options.publicKey = value;
    } else if (argument.startsWith('--')) {
      usage(`Unknown option ${argument}.`);
    } else if (options.file === undefined) {
      options.file = argument;
    } else {
      usage('Give one export file.');
    }
  }
  if (options.file === undefined) usage('Give the export file.');
  return options;
}

// --- the encoding (docs/audit-chain.md) ---

const byUtf8 = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function canonicalJson(value) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value)
    .filter((key) => value[key] !== undefined)
    .sort(byUtf8);
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
}

const field = (value) =>
  value === null || value === undefined ? '-1:' : `${Buffer.byteLength(value, 'utf8')}:${value}`;

function entryHash(entry) {
  const fields = [
    FORMAT,
    String(entry.seq),
    entry.prev_hash,
    entry.id,
    entry.created_at,
    entry.action,
    entry.customer_id,
    entry.target?.type ?? null,
    entry.target?.id ?? null,
    entry.hold_id,
    entry.actor.type,
    entry.actor.id,
    entry.actor.name,
    entry.reason,
    canonicalJson(entry.before),
    canonicalJson(entry.after),
    entry.effective_at,
    entry.request_id,
    entry.ip,
    entry.user_agent,
  ];
  return createHash('sha256').update(fields.map(field).join(''), 'utf8').digest('hex');
}

// --- keys and checkpoints ---

function publicKeyFromRaw(raw) {
  const bytes = Buffer.from(raw, 'base64');
  if (bytes.length !== 32) throw new Error('an Ed25519 public key is 32 bytes');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, bytes]), format: 'der', type: 'spki' });
}

function rawOf(key) {
  return key
    .export({ format: 'der', type: 'spki' })
    .subarray(SPKI_PREFIX.length)
    .toString('base64');
}

function readPublicKey(given) {
  let text = given;
  try {
    text = readFileSync(given, 'utf8');
  } catch {
    // not a file: the key itself
  }
  text = text.trim();
  if (text.startsWith('{')) return publicKeyFromRaw(JSON.parse(text).public_key);
  if (text.includes('-----BEGIN')) return createPublicKey(text);
  return publicKeyFromRaw(text);
}

function readCheckpoints(file) {
  const parsed = JSON.parse(readFileSync(file, 'utf8'));
  const list = Array.isArray(parsed) ? parsed : Array.isArray(parsed.data) ? parsed.data : [parsed];
  for (const checkpoint of list) {
    for (const name of ['seq', 'hash', 'signed_at', 'signature']) {
      if (checkpoint[name] === undefined) throw new Error(`${file}: a checkpoint has no ${name}`);
    }
  }
  return list;
}

function signatureValid(checkpoint, key) {
  const message = `${checkpoint.seq}.${checkpoint.hash}.${checkpoint.signed_at}`;
  try {
    return verify(
      null,
      Buffer.from(message, 'utf8'),
      key,
      Buffer.from(checkpoint.signature, 'base64'),
    );
  } catch {
    return false;
  }
}

// --- the walk ---

async function main() {
  const options = parseArguments(process.argv.slice(2));
  let trusted;
  let checkpoints;
  try {
    trusted = options.publicKey === undefined ? undefined : readPublicKey(options.publicKey);
    checkpoints = options.checkpoints.flatMap(readCheckpoints);
  } catch (error) {
    usage(`Cannot read the input: ${error.message}`);
  }
  const broken = (seq, why) => {
    console.log(`BROKEN at seq ${seq}: ${why}`);
    process.exit(1);
  };
  const warnings = [];

  // Every checkpoint must be signed by the trusted key (or, without one, by its own key).
  const bySeq = new Map();
  for (const checkpoint of checkpoints) {
    const seq = Number(checkpoint.seq);
    let key = trusted;
    if (key === undefined) {
      if (!checkpoint.public_key)
        usage(`The checkpoint of seq ${seq} names no public key: pass --public-key.`);
      key = publicKeyFromRaw(checkpoint.public_key);
    } else if (checkpoint.public_key && checkpoint.public_key !== rawOf(trusted)) {
      broken(seq, 'a checkpoint is signed by another key than the trusted one');
    }
    if (!signatureValid(checkpoint, key)) broken(seq, "a checkpoint's signature does not verify");
    bySeq.set(seq, [...(bySeq.get(seq) ?? []), checkpoint]);
  }
  if (trusted === undefined && checkpoints.length > 0) {
    warnings.push(
      'no --public-key: each checkpoint was checked with the key it names itself, which proves nothing about who signed it',
    );
  }

  const lines = createInterface({ input: createReadStream(options.file), crlfDelay: Infinity });
  let previous;
  let first;
  let count = 0;
  const matched = new Set();
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber += 1;
    if (line.trim() === '') continue;
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      usage(`Line ${lineNumber} is not JSON.`);
    }
    const seq = Number(entry.seq);
    if (previous === undefined) {
      first = seq;
      const anchors = bySeq.get(seq - 1) ?? [];
      if (seq === 1) {
        if (entry.prev_hash !== GENESIS_HASH)
          broken(seq, 'the first entry does not start from the genesis hash');
      } else if (anchors.length > 0) {
        if (anchors.some((anchor) => anchor.hash !== entry.prev_hash)) {
          broken(seq, `its prev_hash is not the hash the checkpoint of seq ${seq - 1} signed`);
        }
        matched.add(seq - 1);
      } else {
        warnings.push(
          `the export starts at seq ${seq}: its link to seq ${seq - 1} was not checked (give that seq's checkpoint or archive anchor with --checkpoint)`,
        );
      }
    } else {
      if (seq !== previous.seq + 1)
        broken(previous.seq + 1, 'no entry has this seq (deleted, or the export is cut)');
      if (entry.prev_hash !== previous.hash)
        broken(seq, "its prev_hash is not the previous entry's hash");
    }
    if (entryHash(entry) !== entry.hash) broken(seq, 'its fields do not give its hash (edited)');
    for (const checkpoint of bySeq.get(seq) ?? []) {
      if (checkpoint.hash !== entry.hash)
        broken(seq, 'a signed checkpoint says another hash (rewritten)');
      matched.add(seq);
    }
    previous = { seq, hash: entry.hash };
    count += 1;
  }
  if (count === 0) usage('The export holds no entry.');
  const outside = [...bySeq.keys()].filter((seq) => !matched.has(seq)).sort((a, b) => a - b);
  if (outside.length > 0)
    warnings.push(
      `checkpoints of seq ${outside.join(', ')} lie outside the export and were checked for their signature only`,
    );
  for (const warning of warnings) console.log(`note: ${warning}`);
  console.log(
    `OK: ${count} entries, seq ${first}..${previous.seq}, last hash ${previous.hash}; ` +
      `${matched.size} checkpoint(s) matched${trusted ? ' (signed by the trusted key)' : ''}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(2);
});

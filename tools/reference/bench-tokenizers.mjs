// Throughput of Hugging Face's Rust tokenizers (Node binding) on a file of lines, for the
// benchmark in benchmarks/MultiTeacher.Benchmarks. Prints one JSON line:
// { singleMBps, batchMBps, tokens, idsHash } where idsHash is FNV-1a (64-bit) over every id.
//   node bench-tokenizers.mjs TOKENIZER_JSON LINES_FILE
import { createRequire } from 'node:module';
import fs from 'node:fs';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('tokenizers');
const [tokenizerPath, linesPath] = process.argv.slice(2);
const lines = fs.readFileSync(linesPath, 'utf8').split('\n');
const bytes = Buffer.byteLength(lines.join(''), 'utf8');
const tokenizer = Tokenizer.fromFile(tokenizerPath);
const opts = { addSpecialTokens: false };

// Warm-up on a tenth of the text, as the .NET side does.
for (const line of lines.slice(0, lines.length / 10)) await tokenizer.encode(line, null, opts);

let start = process.hrtime.bigint();
let tokens = 0;
let hash = 0xcbf29ce484222325n;
const prime = 0x100000001b3n, mask = (1n << 64n) - 1n;
const all = [];
for (const line of lines) all.push((await tokenizer.encode(line, null, opts)).getIds());
const singleSeconds = Number(process.hrtime.bigint() - start) / 1e9;
for (const ids of all) for (const id of ids) { hash = ((hash ^ BigInt(id)) * prime) & mask; tokens++; }

start = process.hrtime.bigint();
const batchSize = 1024;
for (let i = 0; i < lines.length; i += batchSize)
  await tokenizer.encodeBatch(lines.slice(i, i + batchSize), opts);
const batchSeconds = Number(process.hrtime.bigint() - start) / 1e9;

console.log(JSON.stringify({ singleMBps: bytes / 1e6 / singleSeconds, batchMBps: bytes / 1e6 / batchSeconds, tokens, idsHash: hash.toString(16) }));

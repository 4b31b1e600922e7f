// Writes tests/MultiTeacher.Tests/Fixtures/tokenizers/<family>.json: for each test string, the ids
// and offsets that Hugging Face's Rust tokenizers (npm `tokenizers`, pinned in package.json) give.
// Run from the repository root after `mt assets fetch`:
//   (cd tools/reference && npm ci) && node tools/reference/make-tokenizer-fixtures.mjs
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const { Tokenizer } = require('tokenizers');
const referenceVersion = require('tokenizers/package.json').version;

const assets = process.env.MT_ASSETS ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'multiteacher', 'assets');
const families = { llama3: 'tokenizers/llama3', qwen3: 'tokenizers/qwen3', 'mistral-7b-v0.1': 'tokenizers/mistral-7b-v0.1' };
const outDir = path.resolve('tests/MultiTeacher.Tests/Fixtures/tokenizers');

// Real sentences: a deterministic sample spread over the whole nlp-corpus.
function corpusSentences(count) {
  const dir = path.join(assets, 'corpora/nlp-corpus');
  const docs = fs.readdirSync(dir).filter(f => f.endsWith('.json')).sort();
  const all = docs.flatMap(f => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
  const step = Math.floor(all.length / count);
  return Array.from({ length: count }, (_, i) => all[i * step]).filter(s => typeof s === 'string');
}

const hardCases = [
  '', ' ', '  ', '\t', '\n', '\r\n', 'a\r\nb', '   leading spaces', 'trailing spaces   ',
  'tabs\tand\t\ttabs', 'mixed \t \n whitespace\n\n\n', 'line1\nline2\r\nline3\rline4', '  \n  indented\n\tblock',
  '1', '12', '123', '1234', '12345', '123456789012345678901234567890', '3.14159', '1,000,000 and 2.5e-10',
  'Arabic-Indic ٣٤٥ digits', 'circled ①②③ numbers', 'roman Ⅻ numeral', 'year 2024: 365 days',
  'def f(x):\n    return x**2  # square\n', 'for (int i = 0; i < n; ++i) { a[i] += b[i]; }',
  '<div class="x">&amp;</div>', "SELECT * FROM t WHERE a='b';", 'x=>x*2;//arrow', '    if (a && !b) {\n        throw;\n    }',
  'https://example.com/path?q=1&r=two#frag', 'mailto:someone@example.org', 'http://localhost:8080/api/v1/items?id=42',
  '👨‍👩‍👧‍👦 family', '🏳️‍🌈 flag', 'I ❤️ NY 😀😃', 'thumbs 👍🏽 up', '🤖🤖🤖',
  '日本語のテキストです。', '中文分词测试，你好世界！', '한국어 문장입니다', '𠀀𠀁 Extension B letters', 'mixed 中文 and English',
  'مرحبا بالعالم', 'שלום עולם', 'abc مرحبا 123 שלום',
  'e\u0301', 'Cafe\u0301 nai\u0308ve', 'Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇', 'ḱṷṓn', 'Ångström café',
  'ﬁnance ﬂow ﬀ', 'Œuvre æsthetic', 'Straße größer',
  "I'm you're he's we've they'll she'd don't", "I'M YOU'RE HE'S", "it'ſ long s", "'quoted' and \"double\"",
  'a'.repeat(300), 'Supercalifragilisticexpialidocious'.repeat(5), 'x'.repeat(40) + '/' + 'y'.repeat(40),
  'pneumonoultramicroscopicsilicovolcanoconiosis', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!',
  '<s>Hello</s>', '<|begin_of_text|>x<|end_of_text|>', '<|im_start|>user\nhi<|im_end|>', '<think>ok</think>',
  '▁literal marker', 'NBSP\u00a0here', 'ideographic\u3000space', 'zero\u200bwidth', 'control\u0007bell',
  'mixed CASE Words', 'end.', '...', '—dash— and – en', '¿Qué tal? ¡Bien!', 'Ελληνικά κείμενο', 'Русский текст',
  'हिन्दी पाठ', 'ภาษาไทย', '$100 €200 ¥300 £400', '@user #hashtag', 'C++ C# F#', 'snake_case camelCase',
];

const sentences = corpusSentences(170);
const strings = [...sentences, ...hardCases];
fs.mkdirSync(outDir, { recursive: true });

for (const [family, rel] of Object.entries(families)) {
  const file = path.join(assets, rel, 'tokenizer.json');
  const tokenizer = Tokenizer.fromFile(file);
  const cases = [];
  for (const text of strings) {
    const plain = await tokenizer.encode(text, null, { addSpecialTokens: false });
    const withSpecial = await tokenizer.encode(text, null, { addSpecialTokens: true });
    // Offsets from the Node binding count Unicode code points.
    cases.push({ text, ids: Array.from(plain.getIds()), offsets: plain.getOffsets(), idsWithSpecial: Array.from(withSpecial.getIds()) });
  }
  const sha256 = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  const out = { family, reference: `tokenizers@${referenceVersion}`, tokenizerJsonSha256: sha256, corpusSentences: sentences.length, cases };
  fs.writeFileSync(path.join(outDir, `${family}.json`), JSON.stringify(out));
  console.log(`${family}: ${cases.length} cases`);
}

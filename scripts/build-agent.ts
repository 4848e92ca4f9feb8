/**
 * Builds the single-file agent: dist/ollystack-agent.mjs, everything the agent runs bundled
 * into one ES module for Node.js 24 (`node ollystack-agent.mjs agent --config agent.yaml`).
 * Engines the agent never uses (Kafka, Redis, chDB clients) stay out of it.
 * Run: npm run build:agent [-- --outfile <file>]
 */
import { build, type Plugin } from 'esbuild';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const i = process.argv.indexOf('--outfile');
const outfile = i > 0 ? process.argv[i + 1] : `${root}dist/ollystack-agent.mjs`;
if (!outfile) {
  process.stderr.write('build-agent: --outfile needs a file name\n');
  process.exit(2);
}

/**
 * Builtins whose ES module facade costs memory: importing `node:http` as an ES module makes
 * Node read every export of it, and its lazy WebSocket exports load undici, Node's fetch, with
 * its 0.7 MB of source held in the heap. Required as CommonJS, only what is used is read.
 */
const REQUIRED_BUILTINS = /^(node:)?http$/;

const builtinsAsCommonJs: Plugin = {
  name: 'builtins-as-commonjs',
  setup(b) {
    b.onResolve({ filter: REQUIRED_BUILTINS }, (args) => (args.namespace === 'builtin-cjs' ? undefined : { path: args.path, namespace: 'builtin-cjs' }));
    b.onLoad({ filter: /.*/, namespace: 'builtin-cjs' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

export async function buildAgent(target: string): Promise<void> {
  await build({
    plugins: [builtinsAsCommonJs],
    entryPoints: [`${root}src/cli/agent-main.ts`],
    outfile: target,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    // Never loaded by the agent: the buses and stores it does not talk to.
    external: ['chdb', '@platformatic/kafka', 'redis', '@clickhouse/client'],
    // CommonJS packages inside an ES module bundle still call require().
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __olly_createRequire } from 'node:module';\nconst require = __olly_createRequire(import.meta.url);" },
    legalComments: 'linked',
    // V8 keeps a module's whole source text in the heap, as a two-byte string as soon as one
    // character is not Latin-1 (a comment of zod had some): 9.3 MB of the agent's 48 MB heap.
    // Stripped of whitespace and comments, and ASCII only, it is a one-byte string a third
    // of that. Identifiers are kept, so stack traces still name the functions.
    minifyWhitespace: true,
    minifySyntax: true,
    charset: 'ascii',
    logLevel: 'warning',
  });
}

await buildAgent(outfile);
process.stdout.write(`built ${outfile} (${(statSync(outfile).size / 1024 / 1024).toFixed(1)} MB)\n`);

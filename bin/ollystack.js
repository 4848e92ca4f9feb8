#!/usr/bin/env node
// The `ollystack` command. The sources are TypeScript that Node 24 runs directly.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(`ollystack needs Node.js 24 or newer (this is ${process.version}). Run it through npm (npm start, npx ollystack), which puts the project's Node 24 first.`);
  process.exit(1);
}
await import('../src/cli/main.ts');

// `npm run build`: compiles src/ to dist/ with tsc (tsconfig.build.json) and copies the files src/ reads at run
// time that are not TypeScript (the WSDLs next to superoffice/client.ts, found relative to import.meta.url).
// `node scripts/build.js prepare` (npm's prepare, run by npm ci) only notes it when TypeScript is not installed.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = path.join(root, 'src');
const out = path.join(root, 'dist');

let tsc;
try {
  tsc = path.join(path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
} catch {
  // `prepare` in an `npm ci --omit=dev` of a clone: TypeScript is a devDependency, so there is nothing to build with.
  if (process.argv[2] !== 'prepare') throw new Error('typescript is not installed: run `npm ci` (with the devDependencies) first');
  process.stderr.write(
    'batchwatch: not built (typescript is a devDependency, left out by --omit=dev); bin/batchwatch.js needs dist/: ' +
      'install with `npm ci && npm prune --omit=dev`, or copy a dist/ built elsewhere\n',
  );
  process.exit(0);
}
// Built beside dist/ and swapped in at the end: a source file deleted or renamed does not live on as a stale .js file,
// a failed compile leaves the previous dist/ as it was, and a second checkout's `npm test` building at the same time
// (or a bench) never finds dist/ half-written or missing for more than the two renames.
const staging = path.join(root, `dist.tmp-${process.pid}`);
const retired = path.join(root, `dist.old-${process.pid}`);
rmSync(staging, { recursive: true, force: true });
const compiled = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', staging], {
  stdio: 'inherit',
});
if (compiled.status !== 0) {
  rmSync(staging, { recursive: true, force: true });
  process.exit(compiled.status ?? 1);
}
cpSync(src, staging, { recursive: true, filter: (file) => statSync(file).isDirectory() || !file.endsWith('.ts') });
if (existsSync(out)) renameSync(out, retired);
renameSync(staging, out);
rmSync(retired, { recursive: true, force: true });

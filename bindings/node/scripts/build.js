'use strict';
// Builds the native addon with `napi build` into native/ (add --debug for a debug build,
// --out DIR to put it elsewhere). Respects CARGO_TARGET_DIR.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
const debug = args.includes('--debug');
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? path.resolve(args[outAt + 1]) : path.join(root, 'native');

function napiCli() {
  return require.resolve('@napi-rs/cli/package.json', { paths: [root] });
}

let pkg;
try {
  pkg = napiCli();
} catch {
  // `npm install <folder>` links the folder without installing its dependencies.
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const flags = ['--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund'];
  spawnSync(npm, ['install', ...flags, '@napi-rs/cli@^3.1.0'], { stdio: 'inherit', cwd: root });
  pkg = napiCli();
}
const cli = path.join(path.dirname(pkg), 'dist', 'cli.js');
const napiArgs = [cli, 'build', '--cwd', root, '--output-dir', out, '--dts', 'index.d.ts'];
if (!debug) napiArgs.push('--release');
if (process.env.CARGO_TARGET_DIR) napiArgs.push('--target-dir', process.env.CARGO_TARGET_DIR);
const r = spawnSync(process.execPath, napiArgs, { stdio: 'inherit', cwd: root });
if (r.status !== 0) {
  console.error('auditwire: building the native addon failed (Rust and cargo are needed)');
  process.exit(r.status || 1);
}
// Drop debug info after the build (napi's --strip changes RUSTFLAGS: a full rebuild).
spawnSync('strip', ['--strip-debug', path.join(out, 'auditwire.node')], { stdio: 'ignore' });

'use strict';
// npm's install step: keeps a native addon that already loads (a packed tarball ships
// one), otherwise builds it from the Rust sources of the auditwire workspace.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const binary = path.join(root, 'native', 'auditwire.node');

function loads() {
  try {
    require(binary);
    return true;
  } catch {
    return false;
  }
}

if (!process.env.AUDITWIRE_BUILD_FROM_SOURCE && fs.existsSync(binary) && loads()) process.exit(0);
require('./build.js');

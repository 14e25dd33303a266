'use strict';
// Loads the native addon built by `napi build` into native/.
module.exports = require('../native/auditwire.node');

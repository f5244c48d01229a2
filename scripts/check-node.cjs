// Runs before `npm ci`/`npm install` (preinstall) and `npm start` (prestart), on whatever Node the
// machine has: CommonJS and no dependencies, so that on an unsupported Node the answer is this one
// line, not a stack trace from a dependency that needs a newer runtime.
'use strict'
const { engines } = require('../package.json')
const wanted = engines.node.replace(/^>=\s*/, '')
const have = process.versions.node
const parts = (v) => v.split('.').map(Number)
const [a, b] = [parts(have), parts(wanted)]
const older = a[0] !== b[0] ? a[0] < b[0] : a[1] !== b[1] ? a[1] < b[1] : a[2] < b[2]
if (older) {
  console.error(`llm-relay needs Node.js ${wanted} or newer (a supported LTS line: 22, 24 or 26); this is Node.js ${have}.`)
  process.exit(1)
}

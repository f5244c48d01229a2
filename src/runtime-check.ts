/**
 * The CLI's first import: ES modules are evaluated in import order, so this
 * runs before undici or Fastify are loaded, and an unsupported Node ends with
 * one line that names the version needed rather than a dependency's stack trace.
 * Kept in step with package.json's `engines` and scripts/check-node.cjs.
 */
export const MIN_NODE = '22.19.0'

const have = process.versions.node.split('.').map(Number)
const need = MIN_NODE.split('.').map(Number)
const diff = (have[0]! - need[0]!) || (have[1]! - need[1]!) || (have[2]! - need[2]!)
if (diff < 0) {
  process.stderr.write(`llm-relay needs Node.js ${MIN_NODE} or newer (a supported LTS line: 22, 24 or 26); this is Node.js ${process.versions.node}.\n`)
  process.exit(1)
}

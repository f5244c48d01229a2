import t from 'tap'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FORMATS, FORMAT_NAMES, isFormatName } from '../../src/formats/index.js'
import { FormatNameSchema } from '../../src/config/schema.js'
import { resolveConfig } from '../../src/config/resolve.js'

// "Each format is one small module over one shared event pipeline; adding a fourth must touch
// one file" (issue 3). This keeps that true: every list of formats (config schema, ?format=,
// its error message, the EventSource flow) derives from the FORMATS registry, each format
// lives in src/formats/<name>.ts, and nothing outside src/formats/ imports a format module or
// spells out a list of format names.
const SRC = fileURLToPath(new URL('../../src/', import.meta.url))

function sources (dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : []
  })
}

t.test('the registry is the one list of format names', async (t) => {
  t.same(FormatNameSchema.anyOf.map((s) => s.const), FORMAT_NAMES, 'the config schema derives from it')
  for (const name of FORMAT_NAMES) {
    t.equal(FORMATS[name].name, name, `${name}: its name is its key`)
    t.ok(existsSync(join(SRC, 'formats', `${name}.ts`)), `${name}: lives in src/formats/${name}.ts`)
    t.ok(isFormatName(name))
    t.equal(resolveConfig({ format: name, keys: [{ name: 'k', key: 'sk-k', format: name }] }).format, name, `${name}: accepted by the config`)
  }
  t.notOk(isFormatName('toString'), 'no prototype names')
  t.throws(() => resolveConfig({ format: 'ndjson' as never }), { message: /^format: / })
})

t.test('each format module is complete on its own', async (t) => {
  for (const format of Object.values(FORMATS)) {
    t.match(format.contentType, /; charset=utf-8$/, `${format.name}: content type`)
    t.equal(typeof format.create, 'function')
    if (format.contentType.startsWith('text/event-stream')) {
      t.equal(typeof format.renderEvent, 'function', `${format.name}: an event stream renders stored events itself (EventSource flow)`)
      t.match(format.heartbeat, /^:.*\n\n$/, `${format.name}: heartbeat is a comment`)
    } else {
      t.equal(format.renderEvent, undefined, `${format.name}: not an event stream, not readable by EventSource`)
    }
  }
})

t.test('outside src/formats/, no file imports a format module or lists format names', async (t) => {
  const names = FORMAT_NAMES.join('|')
  // Two different format names as string literals on one line, or "openai, content" in a message.
  const quoted = new RegExp(`['"\`](${names})['"\`]`, 'g')
  const prose = new RegExp(`\\b(${names}),? (or )?(${names})\\b`)
  const importsFormat = new RegExp(`formats/(${names})\\.js`)
  const offenders: string[] = []
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file)
    if (rel.startsWith('formats/')) continue
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      const code = line.trim()
      if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*')) return
      const literals = new Set([...code.matchAll(quoted)].map((m) => m[1]))
      if (literals.size > 1 || prose.test(code) || importsFormat.test(code)) offenders.push(`${rel}:${i + 1}: ${code}`)
    })
  }
  t.same(offenders, [], 'a new format needs no edit outside src/formats/')
})

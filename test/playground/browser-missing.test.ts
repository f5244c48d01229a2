import t from 'tap'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

// Without Chromium, `npm test` skips the browser tests and says so in one line; `.ci/run`
// sets RELAY_REQUIRE_BROWSER=1 so that there the same missing browser is a failure and CI
// can never pass without having run them. Played here with a Chromium path that does not exist.
const BROWSER_TEST = fileURLToPath(new URL('./fetch-stop.test.ts', import.meta.url))
const TSX = import.meta.resolve('tsx')
const MISSING = '/nonexistent/chromium'

function run (extraEnv: Record<string, string>): Promise<{ code: number | null, out: string }> {
  const env: Record<string, string | undefined> = { ...process.env, RELAY_CHROMIUM_PATH: MISSING, ...extraEnv }
  if (!('RELAY_REQUIRE_BROWSER' in extraEnv)) delete env.RELAY_REQUIRE_BROWSER
  // Not under tap's own runner: the file's plain TAP output is what is checked.
  for (const k of Object.keys(env)) if (k.startsWith('TAP')) delete env[k]
  const child = spawn(process.execPath, ['--import', TSX, BROWSER_TEST], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c })
  child.stderr.resume()
  const limit = setTimeout(() => child.kill('SIGKILL'), 30_000)
  return new Promise((resolve) => child.once('close', (code) => { clearTimeout(limit); resolve({ code, out }) }))
}

t.test('no Chromium: the browser test file is skipped, with one line saying why', async (t) => {
  const { code, out } = await run({})
  t.equal(code, 0, 'exit code 0')
  t.match(out, `1..0 # Chromium not found at ${MISSING}: browser tests skipped (apt-get install chromium)`)
  t.notMatch(out, /not ok/)
})

t.test('no Chromium and RELAY_REQUIRE_BROWSER=1 (CI): the browser test file fails', async (t) => {
  const { code, out } = await run({ RELAY_REQUIRE_BROWSER: '1' })
  t.not(code, 0, 'a non-zero exit')
  t.match(out, `not ok 1 - Chromium not found at ${MISSING} and RELAY_REQUIRE_BROWSER=1: install it (apt-get install chromium)`)
})

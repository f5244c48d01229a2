import type { Test } from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from './redis.js'
import { sleep } from './upstream.js'

/** Debian's nginx (`apt-get install nginx-light`; .ci/run installs it). */
const NGINX = process.env.NGINX ?? '/usr/sbin/nginx'
/** The example the README points operators at, run as it is but for its placeholders. */
export const EXAMPLE_CONF = fileURLToPath(new URL('../../examples/replicas/nginx.conf', import.meta.url))

/** For tap's `skip` option: false when nginx is there, else why not; in CI (RELAY_REQUIRE_NGINX=1) a failure. */
export function nginxSkip (): false | string {
  if (spawnSync(NGINX, ['-v'], { stdio: 'ignore' }).status === 0) return false
  if (process.env.RELAY_REQUIRE_NGINX === '1') throw new Error(`nginx is required (RELAY_REQUIRE_NGINX=1) but ${NGINX} does not run`)
  return 'nginx is not installed (apt-get install nginx-light), or set NGINX=<path>'
}

/**
 * The example config with its placeholders filled: on each line ending in `# RELAY_…`, the
 * directive's first value is replaced (`RELAY_REPLICA_<n>` → the n-th address, `RELAY_NGINX_LISTEN`
 * → the port, `RELAY_NGINX_PID` and `RELAY_NGINX_TEMP` → the same file name in `dir`). Throws when
 * a placeholder is missing or unknown, so the example and the test cannot drift apart.
 */
export function fillNginxConf (text: string, o: { replicas: string[], listen: number, dir: string }): string {
  const seen = new Set<string>()
  const out = text.replace(/^([ \t]*[a-z_]+[ \t]+)([^\s;]+)(;|[ \t])(.*#[ \t]*(RELAY_[A-Z0-9_]+)[ \t]*)$/gm, (_line, head: string, value: string, sep: string, tail: string, marker: string) => {
    seen.add(marker)
    const replica = /^RELAY_REPLICA_(\d+)$/.exec(marker)
    let filled: string | undefined
    if (replica) filled = o.replicas[Number(replica[1]) - 1]
    else if (marker === 'RELAY_NGINX_LISTEN') filled = `127.0.0.1:${o.listen}`
    else if (marker === 'RELAY_NGINX_PID' || marker === 'RELAY_NGINX_TEMP') filled = join(o.dir, basename(value))
    if (filled === undefined) throw new Error(`nginx.conf: no value for placeholder ${marker}`)
    return `${head}${filled}${sep}${tail}`
  })
  const wanted = ['RELAY_NGINX_PID', 'RELAY_NGINX_TEMP', 'RELAY_NGINX_LISTEN', ...o.replicas.map((_r, i) => `RELAY_REPLICA_${i + 1}`)]
  const missing = wanted.filter((m) => !seen.has(m))
  if (missing.length > 0) throw new Error(`nginx.conf lacks the placeholders ${missing.join(', ')}`)
  return out
}

export interface RunningNginx {
  /** e.g. http://127.0.0.1:41234 */
  url: string
  /** The error log's text so far. */
  errorLog (): string
}

/**
 * nginx in the foreground (`-c <file> -g 'daemon off;' -p <dir>`, error log in `dir`) with the
 * example config filled for `replicas` (host:port each); resolves once it proxies /healthz
 * (bounded), stopped at teardown (and with the test process).
 */
export async function startNginx (t: Test, dir: string, replicas: string[]): Promise<RunningNginx> {
  const listen = await freePort()
  const confPath = join(dir, 'nginx.conf')
  const errorLogPath = join(dir, 'error.log')
  writeFileSync(confPath, fillNginxConf(readFileSync(EXAMPLE_CONF, 'utf8'), { replicas, listen, dir }))
  writeFileSync(errorLogPath, '')
  const child = spawn(NGINX, ['-p', dir, '-c', confPath, '-e', errorLogPath, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { stderr += c })
  // SIGTERM, not SIGKILL: the master then stops its workers.
  const orphan = (): void => { child.kill('SIGTERM') }
  process.once('exit', orphan)
  const exited = once(child, 'exit')
  t.teardown(async () => {
    process.off('exit', orphan)
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
  })
  const errorLog = (): string => readFileSync(errorLogPath, 'utf8')
  const url = `http://127.0.0.1:${listen}`
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${stderr} ${errorLog()}`)
    const status = await fetch(`${url}/healthz`).then(async (r) => { await r.text(); return r.status }, () => 0)
    if (status === 200) break
    if (i >= 200) throw new Error(`nginx did not proxy /healthz within 10 s: ${stderr} ${errorLog()}`)
    await sleep(50)
  }
  return { url, errorLog }
}

// Starting and stopping the bench's processes. Every child is tracked so an
// interrupted run stops what it started, by PID, and nothing else.
import { spawn } from 'node:child_process'
import { openSync, closeSync } from 'node:fs'
import { join } from 'node:path'
import net from 'node:net'

const live = new Set()

/**
 * Spawn cmd args with stderr (and stdout unless 'pipe') appended to logDir/name.log.
 * The bash wrapper raises the soft fd limit to the hard one before exec (same
 * PID): with 10,000 open streams the relay holds ~20,000 sockets, over most
 * default soft limits.
 */
export function launch (name, cmd, args, { env = process.env, cwd, logDir, stdout = 'log' }) {
  const log = openSync(join(logDir, `${name}.log`), 'a')
  const child = spawn('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec "$@"', name, cmd, ...args],
    { cwd, env, stdio: ['ignore', stdout === 'pipe' ? 'pipe' : log, log] })
  closeSync(log) // the child has its own copy
  live.add(child)
  child.exited = new Promise((resolve) => child.once('exit', (code, sig) => { live.delete(child); resolve(code ?? sig) }))
  return child
}

/** SIGTERM, then SIGKILL after graceMs (a relay writing a --cpu-prof profile needs a clean exit). */
export async function stop (child, graceMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await child.exited
  clearTimeout(t)
}

export const stopAll = () => Promise.all([...live].map((c) => stop(c, 2000)))

/** Run a child to completion and parse the one JSON line it prints (load.mjs). */
export async function runJson (name, cmd, args, opts) {
  const child = launch(name, cmd, args, { ...opts, stdout: 'pipe' })
  let out = ''
  child.stdout.on('data', (b) => { out += b })
  const code = await child.exited
  try { return JSON.parse(out) } catch { throw new Error(`${name} exited ${code} without a report (see its log)`) }
}

/** Wait for the first JSON line on a child's stdout (the mock prints its port). */
export function firstLine (child) {
  return new Promise((resolve, reject) => {
    let buf = ''
    child.stdout.on('data', (b) => {
      buf += b
      const nl = buf.indexOf('\n')
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)))
    })
    child.exited.then((c) => reject(new Error(`exited ${c} before printing its port`)))
  })
}

/** A port free right now on 127.0.0.1 (the relay takes PORT from env and does not report one). */
export function freePort () {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)) })
  })
}

/** Poll url until it answers 200; fail early if the child exits. */
export async function waitReady (url, child, ms = 20_000) {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before ${url} answered`)
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) })
      await res.arrayBuffer()
      if (res.status === 200) return
    } catch { /* not listening yet */ }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${url} did not answer 200 within ${ms} ms`)
}

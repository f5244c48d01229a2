// The bench's own Redis (SPEC §11: the same scenarios through the shared stream log):
// a redis-server on 127.0.0.1 and a free port, never 6379, with no persistence, started
// once per run and stopped at its end; and a minimal RESP client (no dependency) that
// run.mjs uses to wait for it and empty it, and load.mjs to sample it while it measures.
import net from 'node:net'
import { execFileSync } from 'node:child_process'
import { launch, stop, freePort } from './launch.mjs'

export const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server'
export const hasRedis = () => { try { execFileSync(REDIS_SERVER, ['--version'], { stdio: 'ignore' }); return true } catch { return false } }

/** One RESP value from buf at i: [value, next index], or null while incomplete. Errors are returned as Error objects. */
function parse (buf, i) {
  const nl = buf.indexOf('\r\n', i)
  if (nl < 0) return null
  const line = buf.toString('utf8', i + 1, nl)
  switch (buf[i]) {
    case 0x2b: return [line, nl + 2] // +simple
    case 0x2d: return [new Error(line), nl + 2] // -error
    case 0x3a: return [Number(line), nl + 2] // :integer
    case 0x24: { // $bulk
      const n = Number(line)
      if (n < 0) return [null, nl + 2]
      if (buf.length < nl + 4 + n) return null
      return [buf.toString('utf8', nl + 2, nl + 2 + n), nl + 4 + n]
    }
    case 0x2a: { // *array
      const n = Number(line)
      if (n < 0) return [null, nl + 2]
      const out = []
      let j = nl + 2
      for (let k = 0; k < n; k++) {
        const r = parse(buf, j)
        if (r === null) return null
        out.push(r[0])
        j = r[1]
      }
      return [out, j]
    }
    default: throw new Error(`unexpected RESP byte ${buf[i]}`)
  }
}

/**
 * A connection to Redis on 127.0.0.1:port. `command(...args)` sends one command and resolves
 * with its reply (rejects with Redis's error); commands are answered in order. `timeoutMs`
 * bounds each command, so a frozen server cannot hang the caller.
 */
export function connectRedis (port, { timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    const waiting = []
    let buf = Buffer.alloc(0)
    const fail = (err) => { for (const w of waiting.splice(0)) { clearTimeout(w.timer); w.reject(err) } }
    socket.once('error', reject)
    socket.on('close', () => fail(new Error('Redis connection closed')))
    socket.on('data', (chunk) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk
      let i = 0
      for (let r; waiting.length && (r = parse(buf, i)) !== null; i = r[1]) {
        const w = waiting.shift()
        clearTimeout(w.timer)
        if (r[0] instanceof Error) w.reject(r[0])
        else w.resolve(r[0])
      }
      buf = buf.subarray(i)
    })
    socket.once('connect', () => {
      socket.off('error', reject)
      socket.on('error', fail)
      resolve({
        command (...args) {
          return new Promise((resolve, reject) => {
            const timer = setTimeout(() => { fail(new Error(`Redis did not answer ${args[0]} within ${timeoutMs} ms`)); socket.destroy() }, timeoutMs)
            waiting.push({ resolve, reject, timer })
            socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`)
          })
        },
        close () { socket.destroy() },
      })
    })
  })
}

/** `INFO <section>` as { field: value }. */
export function info (text) {
  const out = {}
  for (const line of text.split('\r\n')) {
    const c = line.indexOf(':')
    if (c > 0 && line[0] !== '#') out[line.slice(0, c)] = line.slice(c + 1)
  }
  return out
}

/**
 * redis-server on a free port of 127.0.0.1, no persistence (`--save '' --appendonly no`), its log
 * in logDir/redis.log; ready once it answers PING (bounded: 10 s). The PID is redis-server's
 * own (launch() execs it), so /proc/PID/stat is its CPU.
 */
export async function startRedis ({ logDir }) {
  const port = await freePort()
  const child = launch('redis', REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--protected-mode', 'no', '--loglevel', 'warning', '--maxclients', '10000'], { logDir })
  for (let i = 0; ; i++) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode}), see ${logDir}/redis.log`)
    try {
      const c = await connectRedis(port, { timeoutMs: 1000 })
      try { if (await c.command('PING') === 'PONG') break } finally { c.close() }
    } catch (e) {
      if (i >= 100) { await stop(child); throw new Error(`redis-server did not answer PING on 127.0.0.1:${port} within 10 s: ${e.message}`) }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return {
    port,
    pid: child.pid,
    url: `redis://127.0.0.1:${port}`,
    /** Empties it, so a target starts from the same state as a fresh relay process does. */
    async flush () {
      const c = await connectRedis(port)
      try { await c.command('FLUSHALL') } finally { c.close() }
    },
    stop: () => stop(child),
  }
}

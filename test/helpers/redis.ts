import type { Test } from 'tap'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'

/** Debian's redis-server (`apt-get install redis-server`; .ci/run installs it). */
const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server'

export interface RunningRedis {
  /** e.g. redis://127.0.0.1:43123 */
  url: string
  port: number
  /** A plain client for the test's own checks (key counts, INFO memory); closed at teardown. */
  client: Redis
  /** Stops the server (SIGTERM, waits for exit); the port stays reserved for restart(). */
  stop (): Promise<void>
  /** Starts it again on the same port, empty (no persistence). */
  restart (): Promise<void>
  /** Freezes the server (SIGSTOP): it accepts connections but answers nothing. */
  pause (): void
  resume (): void
}

/**
 * For tap's `skip` option: false when the machine has redis-server, else the
 * reason. In CI (RELAY_REQUIRE_REDIS=1, set by .ci/run, which installs it) a
 * missing server is a failure, never a skip.
 */
export function redisSkip (): false | string {
  const probe = spawnSync(REDIS_SERVER, ['--version'], { stdio: 'ignore' })
  if (probe.status === 0) return false
  if (process.env.RELAY_REQUIRE_REDIS === '1') throw new Error('redis-server is required (RELAY_REQUIRE_REDIS=1) but not installed')
  return 'redis-server is not installed (apt-get install redis-server)'
}

/** A free TCP port on 127.0.0.1 (never Redis's default 6379): one that was free a moment ago. */
export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/**
 * Test Redis servers take ports below the kernel's ephemeral range (ip_local_port_range starts at
 * 32768), each reserved by a lock file for the test's whole life: while a test has its server
 * stopped (to restart it), no listen(0) of another test and no other test's Redis can take the
 * port, and restart() finds it free. A lock left by a killed test process keeps its port out of use.
 */
const PORT_RANGE = [20_000, 32_000] as const
const PORT_LOCKS = join(tmpdir(), 'llm-relay-test-redis-ports')

async function reservePort (): Promise<{ port: number, release (): void }> {
  mkdirSync(PORT_LOCKS, { recursive: true })
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORT_RANGE[0] + Math.floor(Math.random() * (PORT_RANGE[1] - PORT_RANGE[0]))
    const lock = join(PORT_LOCKS, String(port))
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' })
    } catch {
      continue
    }
    const release = (): void => { rmSync(lock, { force: true }) }
    if (await canListen(port)) {
      process.once('exit', release)
      return { port, release: () => { process.off('exit', release); release() } }
    }
    release()
  }
  throw new Error(`no free port for a test Redis in ${PORT_RANGE.join('-')}`)
}

async function canListen (port: number): Promise<boolean> {
  const server = createServer()
  const listening = once(server, 'listening').then(() => true, () => false)
  server.listen(port, '127.0.0.1')
  if (!await listening) return false
  server.close()
  await once(server, 'close')
  return true
}

/**
 * A real Redis of the test's own, on 127.0.0.1 and a free port, with no
 * persistence (`--save '' --appendonly no`), stopped at teardown.
 */
export async function startRedis (t: Test, options: { password?: string } = {}): Promise<RunningRedis> {
  const { port, release } = await reservePort()
  let proc: ChildProcess | undefined

  async function launch (): Promise<void> {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', '--loglevel', 'warning']
    if (options.password !== undefined) args.push('--requirepass', options.password)
    // stderr through this process, not inherited: a server that outlives it (a test process killed
    // by a signal runs no teardown) must not hold the test runner's pipe open.
    const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stderr!.on('data', (chunk: Buffer) => { process.stderr.write(chunk) })
    // Its log (stdout) is kept for the error below: a server that cannot bind says so there.
    let log = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { log = (log + chunk).slice(-2000) })
    proc = child
    // A test process that dies before its teardown (an uncaught error) takes its server along: an
    // orphan would keep the port, and the inherited stderr, which holds the runner's pipe open.
    const orphan = (): void => { child.kill('SIGKILL') }
    process.once('exit', orphan)
    child.once('exit', () => process.off('exit', orphan))
    // Ready once it answers PING (bounded: 10 s).
    const probe = new Redis({ port, host: '127.0.0.1', password: options.password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    // Refusals while the server starts are expected: handled by the loop, not printed by ioredis.
    probe.on('error', () => {})
    try {
      for (let i = 0; i < 200; i++) {
        if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}: ${log}`)
        try {
          await probe.connect()
          await probe.ping()
          // The server on the port must be this one: another test's would share its keys silently.
          const pid = /^process_id:(\d+)/m.exec(await probe.info('server'))?.[1]
          if (pid !== String(child.pid)) {
            child.kill('SIGKILL')
            throw new Error(`127.0.0.1:${port} is served by another redis-server (pid ${pid}), not the one started here: ${log}`)
          }
          return
        } catch (err) {
          if ((err as Error).message.includes('another redis-server')) throw err
          probe.disconnect()
          await sleep(50)
        }
      }
      throw new Error(`redis-server did not answer on 127.0.0.1:${port} within 10 s`)
    } finally {
      probe.disconnect()
    }
  }

  async function stop (): Promise<void> {
    const child = proc
    proc = undefined
    if (!child || child.exitCode !== null) return
    child.kill('SIGCONT')
    child.kill('SIGTERM')
    await once(child, 'exit')
  }

  await launch()
  const auth = options.password !== undefined ? `:${encodeURIComponent(options.password)}@` : ''
  const client = new Redis({ port, host: '127.0.0.1', password: options.password, maxRetriesPerRequest: 1 })
  // Tests stop and restart the server: the test's own client sees refusals meanwhile, which its commands report.
  client.on('error', () => {})
  t.teardown(async () => {
    client.disconnect()
    await stop()
    release()
  })
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    client,
    stop,
    restart: launch,
    pause: () => { proc?.kill('SIGSTOP') },
    resume: () => { proc?.kill('SIGCONT') },
  }
}

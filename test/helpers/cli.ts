import type { Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The repository root and the CLI's source, so a child can run from any cwd. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url))
const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url))
const TSX = import.meta.resolve('tsx')

export interface RunningCli {
  child: ChildProcess
  stdout (): string
  stderr (): string
  /** Resolves with the exit code (or the signal name) when the process ends. */
  exited: Promise<number | string>
  /** The first stdout JSON log line whose `msg` matches, or rejects after `timeoutMs`. */
  waitForLog (msg: RegExp, timeoutMs?: number): Promise<Record<string, any>>
}

/**
 * `node --import tsx src/cli.ts` as a child process with exactly `env` (plus
 * PATH), in `cwd`. Killed in teardown if still running, and bounded by
 * `timeoutMs` in any case so a hung child can never hang the suite.
 */
export function spawnCli (t: Test, env: Record<string, string>, options: { cwd?: string, args?: string[], timeoutMs?: number } = {}): RunningCli {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...(options.args ?? [])], {
    cwd: options.cwd ?? REPO,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (c: string) => { out += c })
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { err += c })
  const exited = new Promise<number | string>((resolve) => {
    child.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown'))
  })
  const limit = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000)
  void exited.then(() => clearTimeout(limit))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
  })

  function logLines (): Array<Record<string, any>> {
    return out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>)
  }

  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForLog (msg, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const deadline = setTimeout(() => { cleanup(); reject(new Error(`no log line matching ${msg} within ${timeoutMs} ms; stdout: ${out}; stderr: ${err}`)) }, timeoutMs)
        const check = () => {
          const line = logLines().find((l) => typeof l.msg === 'string' && msg.test(l.msg))
          if (line) { cleanup(); resolve(line) }
        }
        const onExit = () => { check(); cleanup(); reject(new Error(`process exited before logging ${msg}; stdout: ${out}; stderr: ${err}`)) }
        function cleanup () {
          clearTimeout(deadline)
          child.stdout!.off('data', check)
          child.off('close', onExit)
        }
        child.stdout!.on('data', check)
        child.once('close', onExit)
        check()
      })
    },
  }
}

import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

/** A Lua script and its SHA-1, so it is sent whole only once per Redis (and again after a restart). */
export interface RedisScript {
  readonly lua: string
  readonly sha: string
}

export function defineScript (lua: string): RedisScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') }
}

/**
 * EVALSHA, and EVAL when Redis does not know the script (NOSCRIPT: first use, or a Redis that
 * restarted empty), so nothing has to be loaded again by hand after an outage.
 */
export async function runScript (client: Redis, script: RedisScript, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args)
  } catch (err) {
    if (!(err as Error).message.startsWith('NOSCRIPT')) throw err
    return await client.eval(script.lua, keys.length, ...keys, ...args)
  }
}

import { readFileSync } from 'node:fs'
import { resolve as resolvePath } from 'node:path'
import { ConfigError } from './config-error.js'
import { httpUrl, redisUrl, resolveConfig, type RelayConfig } from './resolve.js'
import type { RelayConfigInput, UpstreamInput } from './schema.js'
import { KIND_NAMES, isKindName } from '../upstream/kinds/index.js'
import { DEFAULT_CONFIG_PATH, DEFAULT_UPSTREAM_KIND, ENV_UPSTREAM_NAME } from './defaults.js'

export interface LoadConfigOptions {
  /** Environment to read; default `process.env`. */
  env?: Record<string, string | undefined>
  /** Command-line arguments (without node and script); `--config path` is honoured. */
  argv?: string[]
  /** Directory the default config path is relative to; default `process.cwd()`. */
  cwd?: string
}

/**
 * Defaults < config file < environment (SPEC §3). Reads the JSON file, replaces
 * `${NAME}` strings from the environment, applies the environment variables and
 * validates the result. Throws a ConfigError that names the offending path.
 */
export function loadConfig (options: LoadConfigOptions = {}): RelayConfig {
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  const explicit = configPathFromArgv(options.argv ?? []) ?? nonEmpty(env.RELAY_CONFIG)
  const file = readConfigFile(resolvePath(cwd, explicit ?? DEFAULT_CONFIG_PATH), explicit !== undefined)
  const withSecrets = substituteEnv(file, env, '') as RelayConfigInput
  return resolveConfig(applyEnv(withSecrets, env))
}

function configPathFromArgv (argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--config') {
      const next = argv[i + 1]
      if (!next) throw new ConfigError('--config', 'needs a file path')
      return next
    }
    if (arg.startsWith('--config=')) return arg.slice('--config='.length)
  }
  return undefined
}

function readConfigFile (path: string, required: boolean): unknown {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    // The default file is optional: with none, the relay starts on defaults (the demo model).
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw new ConfigError('', `cannot read config file ${path}: ${(err as Error).message}`)
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new ConfigError('', `config file ${path} is not valid JSON: ${(err as Error).message}`)
  }
}

const ENV_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/

/** Replaces every string value of the form `${NAME}` with that environment variable; unset is an error. */
function substituteEnv (value: unknown, env: Record<string, string | undefined>, path: string): unknown {
  if (typeof value === 'string') {
    const match = ENV_REF.exec(value)
    if (!match) return value
    const name = match[1] as string
    const found = env[name]
    if (found === undefined || found === '') throw new ConfigError(path, `environment variable ${name} is not set`)
    return found
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, `${path}[${i}]`))
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = substituteEnv(v, env, path ? `${path}.${k}` : k)
    return out
  }
  return value
}

/** The environment variables of SPEC §3 on top of the file's values. */
function applyEnv (input: RelayConfigInput, env: Record<string, string | undefined>): RelayConfigInput {
  const out: RelayConfigInput = { ...input }
  const host = nonEmpty(env.HOST)
  if (host) out.host = host
  const port = nonEmpty(env.PORT)
  if (port !== undefined) out.port = parsePort(port)
  const level = nonEmpty(env.LOG_LEVEL)
  if (level) out.logLevel = level as RelayConfigInput['logLevel']

  const url = nonEmpty(env.UPSTREAM_URL)
  if (url) {
    const kind = nonEmpty(env.UPSTREAM_KIND) ?? DEFAULT_UPSTREAM_KIND
    if (!isKindName(kind)) throw new ConfigError('UPSTREAM_KIND', `must be ${KIND_NAMES.map((name) => JSON.stringify(name)).join(' or ')} (got ${JSON.stringify(kind)})`)
    const upstream: UpstreamInput = { name: ENV_UPSTREAM_NAME, kind, baseUrl: httpUrl(url, 'UPSTREAM_URL'), models: commaList(env.UPSTREAM_MODELS) ?? ['*'] }
    const apiKey = nonEmpty(env.UPSTREAM_API_KEY)
    if (apiKey) upstream.apiKey = apiKey
    out.upstreams = [...(input.upstreams ?? []).filter((u) => u.name !== ENV_UPSTREAM_NAME), upstream]
  }

  const tokens = commaList(env.RELAY_API_KEYS)
  if (tokens) {
    out.keys = [...(input.keys ?? []), ...tokens.map((key, i) => ({ name: `env-${i + 1}`, key, models: ['*'] }))]
  }

  const anon = nonEmpty(env.RELAY_ALLOW_ANONYMOUS)
  if (anon !== undefined) out.allowAnonymous = anon === 'true'

  const origins = commaList(env.CORS_ORIGINS)
  if (origins) out.cors = { origins }

  const workers = nonEmpty(env.RELAY_WORKERS)
  if (workers !== undefined) {
    if (workers !== 'auto' && !/^[1-9]\d{0,2}$/.test(workers)) throw new ConfigError('RELAY_WORKERS', `must be a number of processes or "auto" (got ${JSON.stringify(workers)})`)
    out.workers = workers === 'auto' ? 'auto' : Number(workers)
  }

  const redis = nonEmpty(env.REDIS_URL)
  if (redis) out.redis = { ...input.redis, url: redisUrl(redis, 'REDIS_URL') }

  const proxy = proxyFromEnv(env)
  if (proxy) out.proxy = { ...input.proxy, ...proxy }
  return out
}

/**
 * HTTP_PROXY / HTTPS_PROXY / NO_PROXY, lower-case first as curl and undici
 * read them. Read here, with the rest of the environment, and passed down as
 * config: the upstream layer never looks at process.env.
 */
function proxyFromEnv (env: Record<string, string | undefined>): NonNullable<RelayConfigInput['proxy']> | undefined {
  const httpProxy = nonEmpty(env.http_proxy) ?? nonEmpty(env.HTTP_PROXY)
  const httpsProxy = nonEmpty(env.https_proxy) ?? nonEmpty(env.HTTPS_PROXY)
  const noProxy = nonEmpty(env.no_proxy) ?? nonEmpty(env.NO_PROXY)
  if (!httpProxy && !httpsProxy && !noProxy) return undefined
  const proxy: NonNullable<RelayConfigInput['proxy']> = {}
  if (httpProxy) proxy.httpProxy = httpUrl(httpProxy, 'HTTP_PROXY')
  if (httpsProxy) proxy.httpsProxy = httpUrl(httpsProxy, 'HTTPS_PROXY')
  if (noProxy) proxy.noProxy = noProxy
  return proxy
}

function parsePort (value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n > 65_535) throw new ConfigError('PORT', `must be a port number 0-65535 (got ${JSON.stringify(value)})`)
  return n
}

function commaList (value: string | undefined): string[] | undefined {
  const items = value?.split(',').map((s) => s.trim()).filter(Boolean)
  return items && items.length > 0 ? items : undefined
}

function nonEmpty (value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

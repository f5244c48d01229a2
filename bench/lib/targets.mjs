// What the load generator talks to. start() gives a fresh process per scenario
// (so heap and JIT state do not leak from one scenario into the next) and
// returns { url, pids(), stop() }.
import { existsSync, mkdirSync, writeFileSync, readFileSync, statSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { launch, stop, freePort, waitReady } from './launch.mjs'
import { processTree } from './proc.mjs'
import { hasRedis } from './redis.mjs'

const TOKEN = 'sk-bench'

/** Until the relay's primary has forked its workers, so readiness is not asked of one worker alone. */
async function waitForChildren (child, workers, ms = 20_000) {
  const end = Date.now() + ms
  while (processTree(child.pid).length < 1 + workers) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before forking ${workers} workers`)
    if (Date.now() > end) throw new Error(`did not fork ${workers} workers within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
const hasNginx = () => { try { execFileSync('sh', ['-c', 'command -v nginx'], { stdio: 'ignore' }); return true } catch { return false } }

// A Node target must see only what the bench sets: an inherited proxy variable or
// config path would change what is measured.
const cleanEnv = () => Object.fromEntries(Object.entries(process.env)
  .filter(([k]) => !/^(RELAY_|UPSTREAM|REDIS_URL$|CORS_ORIGINS$|HTTPS?_PROXY$|NO_PROXY$|PORT$)/i.test(k)))
function relayEnv (port, mockPort, config) {
  return {
    ...cleanEnv(),
    NODE_ENV: 'production',
    RELAY_CONFIG: config,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    UPSTREAM_URL: `http://127.0.0.1:${mockPort}/v1`,
    UPSTREAM_API_KEY: 'sk-upstream',
    RELAY_API_KEYS: TOKEN,
  }
}

/**
 * ctx: { root, cli (the relay's entry), mockPort, logDir, profileDir (or null), redis (set by
 * run.mjs before the first start of a target that needs it: lib/redis.mjs's startRedis()) }
 */
export function targets (ctx) {
  const { cli } = ctx
  // The relay as shipped: its own config/default.json (global cap 10,000 streams,
  // enough for open10k), named explicitly so no RELAY_CONFIG from the caller leaks in.
  const config = join(ctx.root, 'config', 'default.json')
  // A Node target: a fresh process per scenario, its whole process tree measured,
  // ready when /healthz answers 200, optionally under V8's sampling profiler; `replicas`
  // processes of it side by side (the stream log shared through Redis).
  // `workers`: the processes the relay forks itself (RELAY_WORKERS), waited for before readiness
  // is asked, so both have started when the load begins; pids() are then the primary and them.
  const nodeTarget = (name, format, entry, env, { query = '', path = '/v1/chat/completions', readyPath = '/healthz', replicas = 1, workers = 1 } = {}) => ({
    name,
    format,
    unavailable: existsSync(entry) ? null : `${entry} not found${entry === cli ? ' (npm run build)' : ''}`,
    async start (tag) {
      const logFile = join(ctx.logDir, `${name}.log`)
      const logFrom = existsSync(logFile) ? statSync(logFile).size : 0
      const started = []
      try {
        for (let r = 1; r <= replicas; r++) {
          const port = await freePort()
          const suffix = replicas > 1 ? `-r${r}` : ''
          const prof = ctx.profileDir
            ? ['--cpu-prof', `--cpu-prof-dir=${ctx.profileDir}`, `--cpu-prof-name=${name}-${tag}${suffix}.cpuprofile`]
            : []
          const child = launch(name, process.execPath, [...prof, entry], { cwd: ctx.root, env: env(port), logDir: ctx.logDir })
          started.push({ child, port })
          if (workers > 1) await waitForChildren(child, workers)
          await waitReady(`http://127.0.0.1:${port}${readyPath}`, child)
          if (workers > 1) await new Promise((resolve) => setTimeout(resolve, 500)) // the others' listen() too
        }
      } catch (e) {
        await Promise.all(started.map(({ child }) => stop(child)))
        throw e
      }
      return {
        // several replicas: a comma-separated list (load.mjs's eventsource mode splits POST and GET over them)
        url: started.map(({ port }) => `http://127.0.0.1:${port}${path}${query}`).join(','),
        pids: () => started.flatMap(({ child }) => processTree(child.pid)),
        profile: ctx.profileDir ? join(ctx.profileDir, `${name}-${tag}${replicas > 1 ? '-r1' : ''}.cpuprofile`) : null,
        stop: () => Promise.all(started.map(({ child }) => stop(child, ctx.profileDir ? 20_000 : 5000))),
        // the relay at LOG_LEVEL=warn and the floors log nothing when healthy: whatever they did log is worth a note
        logged: () => readFileSync(logFile, 'utf8').slice(logFrom).split('\n').filter(Boolean),
      }
    },
  })
  // The relay as shipped: `env` added to relayEnv (UPSTREAM_KIND, RELAY_WORKERS, …); `api`
  // and `variant` tell load.mjs what to send and check (--api, --variant).
  const relay = (name, format, { env = () => ({}), api = 'chat', variant = '', ...opts } = {}) => ({
    ...nodeTarget(name, format, cli, (port) => ({ ...relayEnv(port, ctx.mockPort, config), ...env() }), { query: format === 'content' ? '?format=content' : '', ...opts }),
    token: TOKEN,
    api,
    variant,
  })
  // A target that uses the run's Redis: emptied before each start; the load then reads
  // redis-server's CPU and connections too.
  const withRedis = (t, replicas = 1) => ({
    ...t,
    redis: true,
    unavailable: t.unavailable ?? (hasRedis() ? null : 'redis-server not installed (apt-get install redis-server)'),
    async start (tag) {
      await ctx.redis.flush()
      const proc = await t.start(tag)
      return { ...proc, redis: { pid: ctx.redis.pid, port: ctx.redis.port, replicas } }
    },
  })
  // The EventSource flow (SPEC §6): each stream is POST /v1/streams then a GET of its url read
  // to the end as `content` events, so the stream log is on the path of every frame. In the
  // memory store as shipped, or (SPEC §9.1) in the run's Redis (emptied before each start)
  // with REDIS_URL, on one replica or on two that share it, every GET then landing on the
  // replica that did not produce the stream. Ready on /readyz: 200 once Redis is reachable.
  const ES_SKIPS = ['throughput', 'sequential', 'open10k', 'setup']
  const eventsource = (name, { redis = false, replicas = 1 } = {}) => {
    const base = {
      ...nodeTarget(name, 'content',
        cli, (port) => ({ ...relayEnv(port, ctx.mockPort, config), ...(redis ? { REDIS_URL: ctx.redis.url } : {}) }),
        { path: '/v1/streams', readyPath: '/readyz', replicas }),
      token: TOKEN,
      eventsource: true,
      replicas,
      skips: ES_SKIPS,
    }
    return redis ? withRedis(base, replicas) : base
  }
  // The new paths (issue 12), each beside its baseline in the same run: streams only, and not
  // open10k (~70 s a target; what it measures, memory per open stream, idle shows too).
  const PATH_SKIPS = ['sequential', 'open10k', 'setup']
  // The floors (bench/targets/): the same forwarding with nothing of the relay's own,
  // so the relay's figures split into what Node + undici (+ Fastify) cost anyway and
  // what the relay adds. No auth: no token.
  const floor = (name) => ({
    ...nodeTarget(name, 'openai', join(ctx.root, 'bench/targets', `${name}.mjs`),
      (port) => ({ ...cleanEnv(), NODE_ENV: 'production', PORT: String(port), UPSTREAM: `http://127.0.0.1:${ctx.mockPort}` })),
    token: null,
  })

  // @fastify/http-proxy exactly as the shared peer harness runs it (its targets/fastify-proxy.mjs
  // and its installed peers: PEER_BENCH, default ../shared/bench), so that this peer, the floors and
  // the relay share one run. Opt-in, and only where that harness's peers are installed.
  const peerBench = join(ctx.root, process.env.PEER_BENCH ?? '../shared/bench')
  const httpProxy = {
    ...nodeTarget('fastify-http-proxy', 'openai', join(peerBench, 'targets/fastify-proxy.mjs'),
      (port) => ({ ...cleanEnv(), NODE_ENV: 'production', PORT: String(port), UPSTREAM: `http://127.0.0.1:${ctx.mockPort}` }),
      { readyPath: '/v1/models' }),
    token: null,
  }
  if (!existsSync(join(peerBench, 'peers/node_modules'))) httpProxy.unavailable = `${peerBench}/peers/node_modules not found (cd ${peerBench}/peers && npm ci)`

  return [
    {
      name: 'direct',
      format: 'openai',
      token: null,
      unavailable: null,
      start: async () => ({ url: `http://127.0.0.1:${ctx.mockPort}/v1/chat/completions`, pids: () => [], stop: async () => {} })
    },
    // Optional anchor: the CPU targets are relative to nginx, so when it is
    // installed it runs in the same run (master + 1 worker, unbuffered, keep-alive upstream).
    {
      name: 'nginx',
      format: 'openai',
      token: null,
      optional: true,
      skips: ['open10k'],
      unavailable: hasNginx() ? null : 'nginx not installed (apt-get install nginx-light); reference figures used',
      async start (tag) {
        const port = await freePort()
        const dir = join(ctx.logDir, `nginx-${tag}`)
        mkdirSync(dir, { recursive: true })
        writeFileSync(join(dir, 'nginx.conf'), `daemon off; master_process on; worker_processes 1;
pid ${dir}/nginx.pid; error_log ${dir}/error.log warn; worker_rlimit_nofile 20000;
events { worker_connections 16000; }
http {
  access_log off;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  keepalive_requests 100000;
  upstream mock { server 127.0.0.1:${ctx.mockPort}; keepalive 1024; keepalive_requests 100000; }
  server {
    listen 127.0.0.1:${port} backlog=8192;
    location /v1/ { proxy_pass http://mock; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; proxy_read_timeout 300s; }
  }
}
`)
        const child = launch('nginx', 'nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { logDir: ctx.logDir })
        try { await waitReady(`http://127.0.0.1:${port}/v1/models`, child) } catch (e) { await stop(child); throw e }
        return { url: `http://127.0.0.1:${port}/v1/chat/completions`, pids: () => processTree(child.pid), stop: () => stop(child) }
      }
    },
    { ...relay('relay-openai', 'openai') },
    // content rewriting applies to streams; a stream:false reply is the same JSON as openai's
    { ...relay('relay-content', 'content'), skips: ['sequential'] },
    floor('floor-node'),
    floor('floor-fastify'),
    httpProxy,
    // content with reasoning and a tool call (the mock's -rt model): ÷ relay-content
    { ...relay('relay-content-rt', 'content', { variant: 'rt' }), skips: PATH_SKIPS },
    // POST /v1/responses passed through to the mock's own: ÷ relay-openai
    { ...relay('relay-responses', 'openai', { api: 'responses', path: '/v1/responses' }), skips: PATH_SKIPS },
    // POST /v1/responses to a chat-only upstream (kind xinference: responses "chat"), the chat
    // stream told as Responses events by the relay: ÷ relay-openai
    { ...relay('relay-responses-facade', 'openai', { api: 'responses', path: '/v1/responses', env: () => ({ UPSTREAM_KIND: 'xinference' }) }), skips: PATH_SKIPS },
    // relay-openai as shipped on 2 worker processes (RELAY_WORKERS=2 needs REDIS_URL: the run's
    // Redis, where the limits then live); CPU and RSS over the primary and both workers
    withRedis({
      ...relay('relay-openai-w2', 'openai', { readyPath: '/readyz', workers: 2, env: () => ({ RELAY_WORKERS: '2', REDIS_URL: ctx.redis.url }) }),
      skips: PATH_SKIPS,
    }),
    eventsource('relay-es-memory'),
    eventsource('relay-es-redis', { redis: true }),
    eventsource('relay-es-redis-2x', { redis: true, replicas: 2 }),
  ]
}

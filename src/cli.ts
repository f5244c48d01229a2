#!/usr/bin/env node
import { loadConfig } from './config/load.js'
import { ConfigError } from './config/config-error.js'
import { buildServer } from './server.js'

/**
 * The process shell: the only place that reads process.env and argv, listens
 * and handles signals. Everything else is the plugin.
 */
async function main (): Promise<void> {
  let app
  let config
  try {
    config = loadConfig({ argv: process.argv.slice(2) })
    app = await buildServer(config)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`llm-relay: invalid configuration: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }

  let closing = false
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down')
    app.relay.draining = true
    const force = setTimeout(() => {
      app.log.warn('shutdown grace period over: exiting')
      process.exit(0)
    }, config.shutdownGraceMs + 5_000)
    force.unref()
    app.close().then(() => process.exit(0), (err: unknown) => {
      app.log.error({ err }, 'error while closing')
      process.exit(1)
    })
  }
  process.once('SIGTERM', () => shutdown('SIGTERM'))
  process.once('SIGINT', () => shutdown('SIGINT'))

  await app.listen({ host: config.host, port: config.port })
}

main().catch((err: unknown) => {
  process.stderr.write(`llm-relay: failed to start: ${(err as Error)?.stack ?? String(err)}\n`)
  process.exit(1)
})

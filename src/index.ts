/**
 * llm-relay as a library: the default export is the Fastify plugin
 * (`app.register(relay, options)`); `buildServer()` gives a whole server;
 * `loadConfig()` reads a config file and the environment like the CLI does.
 */
import relay from './plugin.js'

export default relay
export { relay }
export type { RelayPluginOptions } from './plugin.js'
export type { LimitsRedis } from './limits/index.js'
export { buildServer, assertSafeExposure, type BuildServerOptions } from './server.js'
export { loadConfig, type LoadConfigOptions } from './config/load.js'
export { resolveConfig, type RelayConfig, type UpstreamConfig, type KeyConfig } from './config/resolve.js'
export { ConfigError } from './config/config-error.js'
export type { RelayConfigInput, UpstreamInput, KeyInput, FormatName, UpstreamKindName } from './config/schema.js'
export { FORMATS } from './formats/index.js'
export type { FrameFormat, FrameWriter, FormatContext } from './formats/index.js'
export { createMemoryResponseOwners, type ResponseOwners, type MemoryOwnersOptions } from './responses/owners.js'
export { createRedisResponseOwners, type RedisOwnersOptions } from './responses/redis-owners.js'

import type { Keyring } from './auth/keyring.js'
import type { RelayConfig } from './config/resolve.js'
import type { Router } from './upstream/router.js'

/** What the routes share: built once when the plugin registers, closed in its onClose hook. */
export interface RelayContext {
  config: RelayConfig
  keyring: Keyring
  router: Router
  /** True once shutdown began: /readyz answers 503 and new work is refused. */
  draining: boolean
}

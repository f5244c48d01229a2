import { test } from 'tap'
import { TIER_UP_FLAGS, tierUpFlagsToSet } from '../../src/v8-tiering.js'
import { spawnCli } from '../helpers/cli.js'

test('the CLI lowers the tier-up thresholds it was not given', async (t) => {
  t.same(tierUpFlagsToSet([]), TIER_UP_FLAGS)
  // An operator's own value wins, in either spelling V8 accepts.
  t.same(tierUpFlagsToSet(['--invocation-count-for-maglev=400']), ['--minimum-invocations-after-ic-update=100'])
  t.same(tierUpFlagsToSet(['--invocation_count_for_maglev=400', '--minimum_invocations_after_ic_update=500']), [])
  t.same(tierUpFlagsToSet(['--max-old-space-size=512', '--import', 'tsx']), TIER_UP_FLAGS)
})

test('the real CLI sets them at start and says so at debug level', async (t) => {
  const cli = spawnCli(t, { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'debug' })
  const line = await cli.waitForLog(/V8 tier-up thresholds lowered/)
  t.same(line.v8Flags, TIER_UP_FLAGS)
  cli.child.kill('SIGTERM')
  t.equal(await cli.exited, 0)
})

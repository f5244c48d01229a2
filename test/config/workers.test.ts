import t from 'tap'
import { availableParallelism } from 'node:os'
import { loadConfig } from '../../src/config/load.js'
import { resolveConfig } from '../../src/config/resolve.js'

t.test('workers: default 1, a number, or auto (one per core this process may use)', async (t) => {
  t.equal(resolveConfig({}).workers, 1)
  t.equal(resolveConfig({ workers: 3 }).workers, 3)
  t.equal(resolveConfig({ workers: 'auto' }).workers, availableParallelism())
  t.equal(loadConfig({ env: { RELAY_WORKERS: 'auto' }, argv: [], cwd: t.testdir({}) }).workers, availableParallelism())
  t.equal(loadConfig({ env: { RELAY_WORKERS: '4' }, argv: [], cwd: t.testdir({}) }).workers, 4)
  t.throws(() => resolveConfig({ workers: 0 }), { message: /^workers: / })
  t.throws(() => loadConfig({ env: { RELAY_WORKERS: '0' }, argv: [], cwd: t.testdir({}) }), { message: /^RELAY_WORKERS: must be a number of processes or "auto"/ })
})

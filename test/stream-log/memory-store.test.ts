import t from 'tap'
import { createMemoryStore } from '../../src/stream-log/memory-store.js'
import { storeContract } from './store-contract.js'

// The reference behaviour of the StreamStore contract (SPEC §6): the in-memory store of one replica.
storeContract(t, async (t) => {
  const store = createMemoryStore()
  t.teardown(() => store.close())
  return store
})

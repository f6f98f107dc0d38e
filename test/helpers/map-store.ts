/**
 * The cache store over keyv with one in-memory Map per namespace: a real KeyvCacheStore without a disk,
 * and the Maps themselves, so a test can look at or damage what was stored.
 */
import { Keyv } from 'keyv';
import { KeyvCacheStore } from '../../cache/keyv-store.js';

export function mapStore(description = 'keyv Map (test)'): { store: KeyvCacheStore; maps: Map<string, Map<string, unknown>> } {
  const maps = new Map<string, Map<string, unknown>>();
  const store = new KeyvCacheStore({
    description,
    keyv: (namespace) => {
      if (!maps.has(namespace)) maps.set(namespace, new Map());
      return new Keyv({ store: maps.get(namespace)!, namespace });
    },
  });
  return { store, maps };
}

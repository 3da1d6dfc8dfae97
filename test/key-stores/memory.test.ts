import { memoryKeyStore } from '../../src/index.js';
import { BAD_SECRET, KEY_A, keyStoreContract } from './contract.js';

keyStoreContract('memoryKeyStore', {
  holding: (secrets) => memoryKeyStore(secrets),
  failing: { none: 'memoryKeyStore holds its secrets in process memory and has no failure mode' },
  holdingBadSecret: { construction: () => memoryKeyStore({ [KEY_A]: BAD_SECRET }) },
});

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository's own copy of the public vectors (provenance and licences in its README). */
export const VECTORS_DIR = fileURLToPath(new URL('../fixtures/vectors/', import.meta.url));

export interface EnvelopeVectorCase {
  name: string;
  body: string;
  expect: { status: number; code?: string; event?: Record<string, unknown> };
}

export interface EnvelopeVectors {
  keys: Record<string, string>;
  cases: EnvelopeVectorCase[];
}

export function loadEnvelopeVectors(): EnvelopeVectors {
  return JSON.parse(readFileSync(`${VECTORS_DIR}envelopes.json`, 'utf8')) as EnvelopeVectors;
}

export interface WycheproofTest {
  tcId: number;
  comment: string;
  flags: string[];
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
  result: 'valid' | 'invalid' | 'acceptable';
}

interface WycheproofGroup {
  keySize: number;
  ivSize: number;
  tagSize: number;
  tests: WycheproofTest[];
}

/** Wycheproof AES-GCM vectors in the Kompliant profile: 256-bit key, 96-bit IV, 128-bit tag. */
export function loadWycheproofKompliantProfile(): WycheproofTest[] {
  const suite = JSON.parse(readFileSync(`${VECTORS_DIR}wycheproof-aes-gcm.json`, 'utf8')) as {
    testGroups: WycheproofGroup[];
  };
  return suite.testGroups
    .filter((g) => g.keySize === 256 && g.ivSize === 96 && g.tagSize === 128)
    .flatMap((g) => g.tests);
}

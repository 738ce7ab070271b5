import { displayPrefix, generateApiKey, hashApiKey } from '../../src/api-keys/api-key-format';
import { ApiKey } from '../../src/api-keys/entities/api-key.entity';
import type { TestApp } from './test-app';

export interface TestApiKey {
  id: string;
  key: string;
  header: { 'X-API-Key': string };
}

/** An API key straight into the database: a platform key, or bound to `customerId`. */
export async function createApiKey(
  t: TestApp,
  customerId: string | null = null,
  name = customerId ? 'Customer key' : 'Platform key',
): Promise<TestApiKey> {
  const key = generateApiKey();
  const keys = t.db.getRepository(ApiKey);
  const saved = await keys.save(
    keys.create({
      name,
      keyHash: hashApiKey(key),
      prefix: displayPrefix(key),
      customerId,
      createdBy: null,
      revokedAt: null,
    }),
  );
  return { id: saved.id, key, header: { 'X-API-Key': key } };
}

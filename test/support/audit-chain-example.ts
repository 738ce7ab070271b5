import { GENESIS_HASH, HashedFields } from '../../src/audit/audit-chain-encoding';

/**
 * The worked example of docs/audit-chain.md: an entry and its hash, against which the SQL, the
 * TypeScript and any outside implementation of the encoding check themselves.
 */
export const AUDIT_HASH_EXAMPLE =
  'ba9277e882a20a460748a6cab35c591dbcb974fc3139440011f5656b2fde8512';

export const ENTRY: HashedFields = {
  seq: '7',
  prev_hash: GENESIS_HASH,
  id: '6f1c1a52-9a43-4d5b-8a55-1b1d2f0c0c0c',
  created_at: '2026-11-27T09:05:00.123000Z',
  action: 'staff_user.updated',
  customer_id: null,
  target_type: 'staff_user',
  target_id: '0b7d8e2c-4d5e-4f60-8a71-92b3c4d5e6f7',
  hold_id: null,
  actor_type: 'user',
  actor_id: '1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5',
  actor_name: 'Zoë',
  reason: '',
  before: { role: 'user', active: true },
  after: { role: 'admin', active: false },
  effective_at: null,
  request_id: 'req-1',
  ip: '203.0.113.7',
  user_agent: null,
};

import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * `job_` + a ULID (reports.md 1.9: opaque ids with a type prefix; 4.7: the
 * BullMQ job id, so neither an integer nor containing `:`). The time part
 * keeps ids of later jobs greater, which the listing's order does not rely on
 * (it orders by created_at, then id).
 */
export function newJobId(now = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let random = '';
  for (let i = 0; i < 16; i++) random += CROCKFORD[bytes[i] % 32];
  return `job_${time}${random}`;
}

import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The last id this process made: its millisecond and its random part, as base-32 digits. */
let lastTime = -1;
let lastRandom: number[] = [];

/**
 * `job_` + a ULID (reports.md 1.9: opaque ids with a type prefix; 4.7: the
 * BullMQ job id, so neither an integer nor containing `:`). Monotonic within
 * a process, as the ULID spec's monotonic mode: a second id in the same
 * millisecond (or after the clock stepped back) is the previous random part
 * plus one, so ids one process makes sort in the order it made them. The
 * listing orders by created_at, then id; two jobs whose created_at ties (a
 * coarse database clock) thus still list in creation order.
 */
export function newJobId(now = Date.now()): string {
  let random: number[];
  if (now <= lastTime && lastRandom.length === 16) {
    now = lastTime;
    random = increment(lastRandom);
  } else {
    const bytes = randomBytes(16);
    random = Array.from(bytes, (b) => b % 32);
    // Leave headroom so an increment within the millisecond never overflows.
    random[0] = random[0] % 16;
  }
  lastTime = now;
  lastRandom = random;
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return `job_${time}${random.map((d) => CROCKFORD[d]).join('')}`;
}

function increment(digits: number[]): number[] {
  const next = digits.slice();
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i] < 31) {
      next[i] += 1;
      return next;
    }
    next[i] = 0;
  }
  throw new Error('job id random part overflowed within one millisecond');
}

import { randomUUID } from 'node:crypto';
import { ADMIN_TOKEN, TestApp } from './test-app';

/** One price item as the contract writes it (reports.md 4.1, 4.2): `valid_from`/`valid_to` as local days `YYYY-MM-DD`. */
export interface PriceItemInput {
  meter: string;
  key: string;
  subkey?: string;
  unit_price: string;
  price_unit: 'hour' | 'unit';
  valid_from: string;
  valid_to?: string | null;
}

export interface PriceListInput {
  name: string;
  currency: string;
  project_ids?: string[];
  items: PriceItemInput[];
}

/**
 * Creates a price list with its items through `POST
 * /admin/reports/price-lists` (reports.md 4.2). Past-dated items queue a
 * `rerate` job (the route does so for any client); with `settle`, answers
 * once that job has finished — for suites whose queue is consumed and that
 * start re-rates of their own, which a job still running would race.
 */
export async function createPriceList(t: TestApp, input: PriceListInput, options: { settle?: boolean } = {}): Promise<{ id: string; items: string[]; rerateJob: string | null }> {
  const res = await t.http.post('/admin/reports/price-lists').set('X-Auth-Token', ADMIN_TOKEN).send(input);
  if (res.status !== 201) throw new Error(`POST /admin/reports/price-lists answered ${res.status}: ${JSON.stringify(res.body)}`);
  if (options.settle && res.body.rerate_job) await jobFinished(t, res.body.rerate_job.id as string);
  return { id: res.body.id as string, items: inInputOrder(input.items, res.body.items as AnsweredItem[]), rerateJob: (res.body.rerate_job?.id as string | undefined) ?? null };
}

interface AnsweredItem {
  id: string;
  meter: string;
  key: string;
  subkey: string;
  valid_from: string;
}

/**
 * The ids of the answered items in the order of the input: the route
 * answers them ordered by meter, key, subkey and `valid_from` (4.2), so
 * items of the same (meter, key, subkey) are matched by their `valid_from`.
 */
function inInputOrder(input: PriceItemInput[], answered: AnsweredItem[]): string[] {
  const group = (meter: string, key: string, subkey: string) => `${meter}\u0000${key}\u0000${subkey}`;
  const queues = new Map<string, AnsweredItem[]>();
  for (const item of answered) queues.set(group(item.meter, item.key, item.subkey), [...(queues.get(group(item.meter, item.key, item.subkey)) ?? []), item]);
  const order = input.map((item, n) => ({ item, n })).sort((a, b) => (a.item.valid_from < b.item.valid_from ? -1 : a.item.valid_from > b.item.valid_from ? 1 : a.n - b.n));
  const ids: string[] = new Array(input.length);
  for (const { item, n } of order) {
    const next = queues.get(group(item.meter, item.key, item.subkey ?? ''))?.shift();
    if (!next) throw new Error(`no answered item for input item ${n} (${item.meter} ${item.key})`);
    ids[n] = next.id;
  }
  return ids;
}

/** Waits until a report job has finished; throws when it did not succeed or takes longer than `timeoutMs`. */
export async function jobFinished(t: TestApp, id: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await t.http.get(`/admin/reports/jobs/${id}`).set('X-Auth-Token', ADMIN_TOKEN);
    const state = res.body?.state as string | undefined;
    if (state === 'succeeded') return;
    if (state === 'failed' || state === 'cancelled') throw new Error(`job ${id} ended ${state}: ${JSON.stringify(res.body.error)}`);
    if (Date.now() > deadline) throw new Error(`job ${id} still ${state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Adds items to a list through `POST …/items`; answers their ids in order. */
export async function addPriceItems(t: TestApp, listId: string, items: PriceItemInput[]): Promise<string[]> {
  const res = await t.http.post(`/admin/reports/price-lists/${listId}/items`).set('X-Auth-Token', ADMIN_TOKEN).send({ items });
  if (res.status !== 201) throw new Error(`POST …/items answered ${res.status}: ${JSON.stringify(res.body)}`);
  return inInputOrder(items, res.body.items as AnsweredItem[]);
}

/**
 * Replaces the unit price of an item as a correction would (reports.md 4.3):
 * the item is superseded and a copy with `unitPrice` inserted. Answers the new item's id.
 * Through SQL on purpose: it changes a price WITHOUT the re-rate job the
 * corrections route queues, so the re-rate suites can drive
 * `POST /admin/reports/rerate` themselves and see what it changes.
 */
export async function correctPrice(t: TestApp, itemId: string, unitPrice: string): Promise<string> {
  const id = `pi_${randomUUID().replace(/-/g, '')}`;
  await t.runtime.dataSource.transaction(async (tx) => {
    await tx.query(`UPDATE report_price_item SET superseded_by = $2 WHERE id = $1`, [itemId, `corr_${id.slice(3)}`]);
    await tx.query(
      `INSERT INTO report_price_item (id, price_list_id, meter, key, subkey, unit_price, price_unit, valid_from, valid_to, valid_from_day, valid_to_day, created_by, reason)
       SELECT $2, price_list_id, meter, key, subkey, $3::numeric, price_unit, valid_from, valid_to, valid_from_day, valid_to_day, 'test', 'test correction'
       FROM report_price_item WHERE id = $1`,
      [itemId, id, unitPrice],
    );
  });
  return id;
}

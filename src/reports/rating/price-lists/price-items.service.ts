import { Injectable } from '@nestjs/common';
import { Principal } from '../../../auth/principal';
import { DomainError } from '../../../http/domain-error';
import { Exact } from '../../decimal';
import { invalid } from '../../window/reports-input';
import { decimalText } from './exact-json';
import { CorrectionDto, PatchPriceItemDto, PriceItemDto } from './dto/price-list.dto';
import { CorrectionAnswerView, CreatedItemsView, PatchedItemView } from './dto/price-list.views';
import { itemView } from './price-list-views';
import { PriceListError } from './price-lists.errors';
import { newId, PriceItemRow } from './price-lists.repository';
import { CORRECTION, PriceWrites, RERATE } from './price-lists.service';
import { priceUnitRule, subkeyRule } from './price-rules';
import { pastWindow, Window } from './price-validity';

function itemNotFound(): DomainError {
  return new DomainError(PriceListError.ItemNotFound, 'No such item in this price list');
}

function immutable(what: string): DomainError {
  return new DomainError(PriceListError.Immutable, what);
}

/** The hull of the intervals where two validities differ ([a, b) with null = open), or null when they are equal. */
function changedSpan(before: { from: string; to: string | null }, after: { from: string; to: string | null }): { from: string; to: string | null } | null {
  const spans: { from: string; to: string | null }[] = [];
  if (before.from !== after.from) spans.push(before.from < after.from ? { from: before.from, to: after.from } : { from: after.from, to: before.from });
  if (before.to !== after.to) {
    const lo = before.to === null ? after.to! : after.to === null ? before.to : before.to < after.to ? before.to : after.to;
    const hi = before.to === null || after.to === null ? null : before.to < after.to ? after.to : before.to;
    spans.push({ from: lo, to: hi });
  }
  if (spans.length === 0) return null;
  const from = spans.map((s) => s.from).reduce((a, b) => (b < a ? b : a));
  const to = spans.some((s) => s.to === null) ? null : spans.map((s) => s.to!).reduce((a, b) => (b > a ? b : a));
  return { from, to };
}

/**
 * Price items and corrections (reports.md 4.2, 4.3): adding items (their
 * past days queue a `rerate` job in the same transaction), the
 * immutability table of a PATCH, deleting scheduled items, and corrections
 * (supersede + insert + audit + `correction` job, one transaction).
 */
@Injectable()
export class PriceItemsService {
  constructor(private readonly w: PriceWrites) {}

  /** `POST …/items`: one item (`single`, fields named bare) or `{"items": [...]}` (fields named `items[i].…`). */
  async add(listId: string, items: PriceItemDto[], single: boolean, actor: Principal): Promise<CreatedItemsView> {
    const news = await this.w.newItems(items, (i, name) => (single ? name : `items[${i}].${name}`), (item) => item.reason ?? null);
    const { answer, job } = await this.w.db.transaction(async (m) => {
      const list = await this.w.lockList(listId, m);
      await this.w.repository.insertItems(list.id, news, actor.name, m);
      const rows = await this.w.repository.items(list.id, { ids: news.map((n) => n.id) }, m);
      for (const row of rows) {
        await this.w.audit.append({ actor: actor.name, action: 'create', object: 'price_item', objectId: row.id, priceListId: list.id, before: null, after: itemView(row), reason: row.reason }, m);
      }
      const job = await this.w.jobWithin(RERATE, list, await this.w.pastWindowOf(news, m), `price items of list ${list.name} priced days before today`, actor, m);
      return { answer: { items: rows.map(itemView), rerate_job: job }, job };
    });
    await this.w.enqueue(job);
    return answer;
  }

  /** `PATCH …/items/{item_id}` under the immutability table of 4.3. */
  async patch(listId: string, itemId: string, body: PatchPriceItemDto, actor: Principal): Promise<PatchedItemView> {
    // The bounds the body gives, checked before the transaction (PriceValidity.resolve says why).
    const given = [
      ...(body.valid_from !== undefined ? [{ value: body.valid_from, field: 'valid_from' }] : []),
      ...(typeof body.valid_to === 'string' ? [{ value: body.valid_to, field: 'valid_to' }] : []),
    ];
    await this.w.validity.bounds(given);
    const { answer, job } = await this.w.db.transaction(async (m) => {
      const list = await this.w.lockList(listId, m);
      const before = await this.w.repository.item(list.id, itemId, m);
      if (!before) throw itemNotFound();
      if (before.state === 'superseded') throw immutable(`Item ${itemId} was superseded by ${before.superseded_by}; it is kept as it was`);
      const begun = before.state !== 'scheduled';
      const price = body.unit_price !== undefined ? decimalText(body.unit_price) : before.unit_price;
      const changed = {
        meter: body.meter !== undefined && body.meter !== before.meter,
        key: body.key !== undefined && body.key !== before.key,
        subkey: body.subkey !== undefined && body.subkey !== before.subkey,
        unit_price: !new Exact(price).eq(new Exact(before.unit_price)),
        price_unit: body.price_unit !== undefined && body.price_unit !== before.price_unit,
      };
      const meter = body.meter ?? before.meter;
      const subkey = body.subkey ?? before.subkey;
      const priceUnit = body.price_unit ?? before.price_unit;
      const s = subkeyRule(meter, subkey);
      if (s) throw invalid('subkey', s);
      const p = priceUnitRule(meter, priceUnit);
      if (p) throw invalid('price_unit', p);
      const [validity] = await this.w.validity.resolve(
        [
          {
            from: body.valid_from ?? before.valid_from_exact,
            to: body.valid_to === undefined ? before.valid_to_exact : body.valid_to,
            fromField: body.valid_from !== undefined ? 'valid_from' : 'valid_to',
            toField: 'valid_to',
          },
        ],
        m,
      );
      const validFromChanged = validity.from !== before.valid_from_exact;
      const validToChanged = validity.to !== before.valid_to_exact;
      if (begun) {
        const first = (['meter', 'key', 'subkey', 'unit_price', 'price_unit'] as const).find((k) => changed[k]) ?? (validFromChanged ? 'valid_from' : undefined);
        if (first !== undefined) {
          throw immutable(`${first} of an item that has begun (${before.state}) cannot change: use a correction (reports.md 4.3)`);
        }
        if (validToChanged) {
          const { tomorrow } = await this.w.validity.today(m);
          if (validity.to === null && before.state === 'ended') throw immutable('valid_to of an ended item cannot be removed: that rewrites history; use a correction');
          if (validity.to !== null && validity.to < tomorrow) throw immutable('valid_to of an item that has begun may only move to the start of tomorrow or later: use a correction to change the past');
        }
      }
      const anyChange = Object.values(changed).some(Boolean) || validFromChanged || validToChanged;
      if (!anyChange) return { answer: { ...itemView(before), rerate_job: null }, job: null };
      await this.w.repository.updateItem(
        before.id,
        {
          meter,
          key: body.key ?? before.key,
          subkey,
          unitPrice: price,
          priceUnit,
          validFrom: validity.from,
          validTo: validity.to,
          validFromDay: validity.fromDay,
          validToDay: validity.toDay,
        },
        m,
      );
      const after = (await this.w.repository.item(list.id, before.id, m))!;
      const onlyEnds = begun && validToChanged && validity.to !== null;
      await this.w.audit.append(
        { actor: actor.name, action: onlyEnds ? 'end' : 'update', object: 'price_item', objectId: before.id, priceListId: list.id, before: itemView(before), after: itemView(after), reason: body.reason ?? null },
        m,
      );
      // The past days whose price may differ: everything the item covers when what it prices changed, else where its validity moved.
      const oldRange = { from: before.valid_from_exact, to: before.valid_to_exact };
      const newRange = { from: validity.from, to: validity.to };
      const pricing = changed.meter || changed.key || changed.subkey || changed.unit_price || changed.price_unit;
      const span = pricing ? null : changedSpan(oldRange, newRange);
      const { today } = await this.w.validity.today(m);
      const window: Window | null = pastWindow(pricing ? [oldRange, newRange] : span ? [span] : [], today);
      const job = await this.w.jobWithin(RERATE, list, window, body.reason ?? `price item ${before.id} of list ${list.name} changed days before today`, actor, m);
      return { answer: { ...itemView(after), rerate_job: job }, job };
    });
    await this.w.enqueue(job);
    return answer;
  }

  /** `DELETE …/items/{item_id}`: only a scheduled item (4.3). */
  async remove(listId: string, itemId: string, actor: Principal): Promise<void> {
    await this.w.db.transaction(async (m) => {
      const list = await this.w.lockList(listId, m);
      const before = await this.w.repository.item(list.id, itemId, m);
      if (!before) throw itemNotFound();
      if (before.state !== 'scheduled') throw immutable(`Only a scheduled item can be deleted; ${itemId} is ${before.state}${before.state === 'superseded' ? '' : ': end it (valid_to) or use a correction'}`);
      await this.w.repository.deleteItem(before.id, m);
      await this.w.audit.append({ actor: actor.name, action: 'delete', object: 'price_item', objectId: before.id, priceListId: list.id, before: itemView(before), after: null }, m);
    });
  }

  /** `POST …/corrections` (4.3): supersede, insert, audit and the `correction` job in one transaction. */
  async correct(listId: string, body: CorrectionDto, actor: Principal): Promise<CorrectionAnswerView> {
    const supersede = body.supersede ?? [];
    const items = body.items ?? [];
    if (supersede.length === 0 && items.length === 0) throw invalid('items', 'a correction supersedes or inserts at least one item');
    const news = await this.w.newItems(items, (i, name) => `items[${i}].${name}`, (item) => item.reason ?? body.reason);
    const { answer, job } = await this.w.db.transaction(async (m) => {
      const list = await this.w.lockList(listId, m);
      const owners = new Map((await this.w.repository.itemLists(supersede, m)).map((r) => [r.id, r.price_list_id]));
      const foreign = supersede.find((id) => owners.get(id) !== list.id);
      if (foreign !== undefined) throw invalid('supersede', `${foreign} is not an item of this price list`);
      const old: PriceItemRow[] = supersede.length > 0 ? await this.w.repository.items(list.id, { ids: supersede }, m) : [];
      const done = old.find((o) => o.state === 'superseded');
      if (done) throw new DomainError(PriceListError.AlreadySuperseded, `Item ${done.id} is already superseded (by ${done.superseded_by})`);
      const id = newId('corr');
      await this.w.repository.supersede(supersede, id, m);
      await this.w.repository.insertItems(list.id, news, actor.name, m);
      const { today } = await this.w.validity.today(m);
      const window = pastWindow(
        [...old.map((o) => ({ from: o.valid_from_exact, to: o.valid_to_exact })), ...news.map((n) => ({ from: n.validFrom, to: n.validTo }))],
        today,
      );
      const job = await this.w.jobWithin(CORRECTION, list, window, body.reason, actor, m);
      const correction = await this.w.repository.insertCorrection(
        { id, listId: list.id, reason: body.reason, superseded: supersede, items: news.map((n) => n.id), jobId: job?.id ?? null, createdBy: actor.name },
        m,
      );
      const superseded = supersede.length > 0 ? await this.w.repository.items(list.id, { ids: supersede }, m) : [];
      const byId = new Map(old.map((o) => [o.id, o]));
      for (const row of superseded) {
        await this.w.audit.append(
          { actor: actor.name, action: 'supersede', object: 'price_item', objectId: row.id, priceListId: list.id, before: itemView(byId.get(row.id)!), after: itemView(row), reason: body.reason },
          m,
        );
      }
      const inserted = news.length > 0 ? await this.w.repository.items(list.id, { ids: news.map((n) => n.id) }, m) : [];
      for (const row of inserted) {
        await this.w.audit.append({ actor: actor.name, action: 'correct', object: 'price_item', objectId: row.id, priceListId: list.id, before: null, after: itemView(row), reason: body.reason }, m);
      }
      const answer: CorrectionAnswerView = {
        correction: { id, reason: body.reason, superseded: supersede, items: inserted.map(itemView), created_at: correction.created_at, created_by: actor.name },
        job,
      };
      return { answer, job };
    });
    await this.w.enqueue(job);
    return answer;
  }
}

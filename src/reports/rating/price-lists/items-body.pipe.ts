import { Injectable, PipeTransform } from '@nestjs/common';
import { validateDto } from '../../../http/validation.pipe';
import { AddPriceItemsDto, PriceItemDto } from './dto/price-list.dto';

/** The two forms of `POST …/items` (reports.md 4.2), each validated by its DTO. */
export type ItemsBody = { single: true; items: [PriceItemDto] } | { single: false; items: PriceItemDto[] };

/**
 * `POST /admin/reports/price-lists/{id}/items` takes one item or
 * `{"items": [...]}`: a body with an `items` field is the second form. The
 * route's `@Body()` is untyped so the global pipe leaves it to this one.
 */
@Injectable()
export class ItemsBodyPipe implements PipeTransform<unknown, ItemsBody> {
  transform(value: unknown): ItemsBody {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.prototype.hasOwnProperty.call(value, 'items')) {
      return { single: false, items: validateDto(AddPriceItemsDto, value).items };
    }
    return { single: true, items: [validateDto(PriceItemDto, value)] };
  }
}

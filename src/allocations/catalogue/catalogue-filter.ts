import { invalidField } from '../allocations.errors';
import { parseBool, parseInteger } from '../shared/body-reader';
import { QueryParamDoc } from '../shared/input';
import { Query, queryValue } from '../shared/paging';
import { CollectionDef, CollectionName, COLLECTIONS, filterFields } from './catalogue.definitions';

/** Exact filters on a collection's scalar fields; unknown parameters are ignored (allocations.md 8). */
export type CatalogueFilter = { column: string; value: string | number | boolean }[];

export function catalogueFilterParser(name: CollectionName): (query: Query) => CatalogueFilter {
  const def: CollectionDef = COLLECTIONS[name];
  const fields = filterFields(def);
  return (query) => {
    const filter: CatalogueFilter = [];
    for (const field of fields) {
      const text = queryValue(query, field.name);
      if (text === undefined) continue;
      if (field.kind === 'bool') {
        const value = parseBool(text);
        if (value === undefined) throw invalidField(field.name, 'Must be a valid boolean.');
        filter.push({ column: field.name, value });
      } else if (field.kind === 'int') {
        const value = parseInteger(text);
        if (value === undefined) throw invalidField(field.name, 'A valid integer is required.');
        filter.push({ column: field.name, value });
      } else {
        filter.push({ column: field.name, value: text });
      }
    }
    return filter;
  };
}

/** The filters of a collection, for the OpenAPI document. */
export function catalogueQueryParams(name: CollectionName): QueryParamDoc[] {
  return filterFields(COLLECTIONS[name]).map((f) => ({ name: f.name, type: f.kind === 'int' ? 'integer' : f.kind === 'bool' ? 'boolean' : 'string' }));
}

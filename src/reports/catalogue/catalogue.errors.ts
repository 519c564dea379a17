/** Error codes of the flavor catalogue (reports.md 2.4, 3.5). */
export enum CatalogueError {
  NotFound = 'reports.flavor_not_found',
  /** A name or alias that is already another entry's name or alias (2.4). */
  Taken = 'reports.flavor_taken',
  /** DELETE of a flavor some version in history stores (3.5). */
  InUse = 'reports.flavor_in_use',
}

export const CATALOGUE_ERROR_STATUS: Record<CatalogueError, number> = {
  [CatalogueError.NotFound]: 404,
  [CatalogueError.Taken]: 409,
  [CatalogueError.InUse]: 409,
};

/** Error codes of the price-list routes (reports.md §4.1–4.4). */
export enum PriceListError {
  /** No such list, or one a `user` may not see (1.2). */
  NotFound = 'reports.price_list_not_found',
  ItemNotFound = 'reports.price_item_not_found',
  /** Another list has the name (4.1: names are unique). */
  NameTaken = 'reports.price_list_name_taken',
  /** A second default list (no projects) of a currency (4.1). */
  DefaultTaken = 'reports.price_list_default_taken',
  /** A project already named by another list of the currency (4.1). */
  ProjectTaken = 'reports.price_list_project_taken',
  /** `project_ids` changed once an item of the list has begun (4.2). */
  ProjectsFixed = 'reports.price_list_projects_fixed',
  /** Two live items of a list with the same meter, key and subkey overlap in time (4.1). */
  Overlap = 'reports.price_item_overlap',
  /** A change the immutability table of 4.3 refuses (begun or superseded item). */
  Immutable = 'reports.price_item_immutable',
  /** A correction superseding an item already superseded (4.3). */
  AlreadySuperseded = 'reports.price_item_superseded',
}

export const PRICE_LIST_ERROR_STATUS: Record<PriceListError, number> = {
  [PriceListError.NotFound]: 404,
  [PriceListError.ItemNotFound]: 404,
  [PriceListError.NameTaken]: 409,
  [PriceListError.DefaultTaken]: 409,
  [PriceListError.ProjectTaken]: 409,
  [PriceListError.ProjectsFixed]: 409,
  [PriceListError.Overlap]: 409,
  [PriceListError.Immutable]: 409,
  [PriceListError.AlreadySuperseded]: 409,
};

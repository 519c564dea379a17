/** Error codes of the dashboard's static files (reports.md 8.1). */
export enum DashboardError {
  /** A file name that is not one of the page's content-hashed assets. */
  AssetNotFound = 'dashboard.asset_not_found',
}

export const DASHBOARD_ERROR_STATUS: Record<DashboardError, number> = {
  [DashboardError.AssetNotFound]: 404,
};

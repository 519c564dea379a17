/**
 * What a feature module contributes to the process besides its Nest module:
 * the composition root (src/composition.ts) gathers these lists and hands
 * them to the infrastructure, which never imports a feature folder itself.
 */
export interface Feature {
  /** Short name, for logs and error messages. */
  name: string;
  /** TypeORM entity classes; migrations/ must describe exactly these. */
  entities: Function[];
  /** Error code (`context.snake_case`) → HTTP status, for every code the module throws. */
  errorStatus: Record<string, number>;
  /** Job names the module produces; each needs exactly one handler in a consuming process. */
  jobs?: string[];
}

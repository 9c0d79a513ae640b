/** What one CRD field means, and its default. */
export interface FieldDoc {
  doc: string;
  /** Applied by the API server when the field is left out (the translator assumes the same). */
  default?: unknown;
}

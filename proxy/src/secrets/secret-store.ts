/** Secret material delivered beside the config (never inside it): `namespace/name` → key → value. */
export type SecretData = Readonly<Record<string, Readonly<Record<string, string>>>>;

export interface SecretRef {
  secret: string;
  key: string;
}

/** Looks up provider credentials; swapped whole with each config so a request sees one consistent set. */
export class SecretStore {
  readonly #data: SecretData;

  constructor(data: SecretData = {}) {
    this.#data = data;
  }

  get(ref: SecretRef | undefined): string | undefined {
    return ref ? this.#data[ref.secret]?.[ref.key] : undefined;
  }

  has(ref: SecretRef): boolean {
    return this.get(ref) !== undefined;
  }
}

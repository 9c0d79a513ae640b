import type { SecretData } from '../config/delivery.ts';

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

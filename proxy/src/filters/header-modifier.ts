import type { HeaderModifier } from '../config/schema.ts';

export type HeaderBag = Record<string, string | string[] | undefined>;
export type HeaderEdit = (headers: HeaderBag) => void;

/** Compiles a RequestHeaderModifier/ResponseHeaderModifier into one function over lower-cased names. */
export function compileHeaderModifier(mod: HeaderModifier | undefined): HeaderEdit | undefined {
  if (!mod || (mod.set.length === 0 && mod.add.length === 0 && mod.remove.length === 0)) return undefined;
  const set = mod.set.map((h) => [h.name.toLowerCase(), h.value] as const);
  const add = mod.add.map((h) => [h.name.toLowerCase(), h.value] as const);
  const remove = mod.remove.map((name) => name.toLowerCase());
  return (headers) => {
    for (const [name, value] of set) headers[name] = value;
    for (const [name, value] of add) {
      const existing = headers[name];
      // Gateway API: "add" appends to existing values of the same header.
      headers[name] =
        existing === undefined
          ? value
          : `${Array.isArray(existing) ? existing.join(',') : existing},${value}`;
    }
    for (const name of remove) delete headers[name];
  };
}

import { Type as T } from '@sinclair/typebox';

/** Any identifier in the config (object names, header names, hostnames): bounded, never empty. */
export const Name = T.String({ minLength: 1, maxLength: 512 });

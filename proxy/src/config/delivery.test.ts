import { describe, expect, it } from 'vitest';
import { CONFIG_DATA_KEY, packConfig, packSecrets, unpackConfig, unpackSecrets } from './delivery.ts';

describe('config delivery format', () => {
  it('packs equal configs to equal bytes (no gzip timestamp), so unchanged configs write nothing', () => {
    expect(packConfig({ a: 1, b: [2] })).toBe(packConfig({ a: 1, b: [2] }));
  });

  it('names what is wrong with a ConfigMap it cannot read', () => {
    expect(() => unpackConfig(undefined)).toThrow(`no binaryData key ${CONFIG_DATA_KEY}`);
    expect(() => unpackConfig({ [CONFIG_DATA_KEY]: Buffer.from('plain').toString('base64') })).toThrow(
      'is not gzip',
    );
  });

  it('round-trips credentials of Secrets whose names contain dots', () => {
    const secrets = { 'team-a/openai.prod': { 'api-key': 'k1' }, 'team-b/x': { a: '1', b: '2' } };
    expect(unpackSecrets(packSecrets(secrets))).toEqual(secrets);
    expect(() => unpackSecrets({ nodot: 'e30=' })).toThrow('is not <namespace>.<name>');
  });
});

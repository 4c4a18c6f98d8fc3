import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactSecretsInText, scanUncached } from './secret-text.ts';

const ID = { idPosition: true } as const;

/** Hex digits and dashes, digit-heavy often enough to make card-like runs. */
const hexDash = fc
  .array(
    fc.oneof(
      fc.constantFrom(...'0123456789abcdefABCDEF-'),
      fc.constantFrom(...'0123456789'),
      fc.constantFrom(...'0123456789-'),
    ),
    { minLength: 1, maxLength: 80 },
  )
  .map((cs) => cs.join(''));

const uuid = fc.uuid();

/** Card numbers (Luhn-valid test numbers) written with dashes or glued into hex. */
const cardLike = fc
  .tuple(
    fc.constantFrom('4111111111111111', '5555555555554444', '378282246310005', '4012888888881881'),
    fc.constantFrom('', '-'),
    fc.constantFrom('', 'ab-', '0f-'),
  )
  .map(([card, sep, prefix]) =>
    sep === '' ? `${prefix}${card}` : `${prefix}${card.replace(/(\d{4})(?=\d)/g, `$1${sep}`)}`,
  );

describe('redactSecretsInText where ids go', () => {
  it('gives what the full scan gives for every text of hex digits and dashes', () => {
    fc.assert(
      fc.property(fc.oneof(hexDash, uuid, cardLike), (text) => {
        const fast: string[] = [];
        const full: string[] = [];
        expect(redactSecretsInText(text, 'header:x-request-id', fast, ID)).toBe(
          scanUncached(text, 'header:x-request-id', full, ID),
        );
        expect(fast).toEqual(full);
      }),
      { numRuns: 20_000 },
    );
  });

  it('still redacts a card number written with dashes', () => {
    const found: string[] = [];
    expect(redactSecretsInText('4111-1111-1111-1111', 'header:x-request-id', found, ID)).toBe(
      '[REDACTED:card]',
    );
    expect(found).toEqual(['header:x-request-id:card']);
  });

  it('keeps UUIDs and trace ids as they are, and scans ids of other characters', () => {
    for (const id of [
      '3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b',
      '4bf92f3577b34da6a3ce929d0e0e4736',
      '00f067aa0ba902b7',
      '12345678-1234-1234-1234-123456789012',
    ])
      expect(redactSecretsInText(id, 'header:x-request-id', [], ID)).toBe(id);
    const found: string[] = [];
    expect(redactSecretsInText('AKIAIOSFODNN7EXAMPLE', 'header:x-request-id', found, ID)).toBe(
      '[REDACTED:aws_key]',
    );
    expect(found).toEqual(['header:x-request-id:aws_key']);
  });
});

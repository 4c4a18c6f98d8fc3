import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { closestName, editDistance, looksSecret, parseConfig } from './config-errors.ts';
import { ConfigError } from './errors.ts';

const errorOf = (act: () => unknown): ConfigError => {
  try {
    act();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('editDistance', () => {
  it.each([
    ['lake', 'lake', 0],
    ['lakes', 'lake', 1],
    ['regoin', 'region', 1],
    ['nmae', 'name', 1],
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
  ])('%s → %s is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe('closestName', () => {
  it('suggests the nearest known name, ignoring case', () => {
    expect(closestName('lakes', ['stream', 'lake', 'batch'])).toBe('lake');
    expect(closestName('Stream', ['stream', 'lake'])).toBe('stream');
  });

  it('guesses nothing when no name is close', () => {
    expect(closestName('shardz', ['name', 'region', 'endpoint'])).toBeUndefined();
    expect(closestName('db', ['dir'])).toBeUndefined();
  });
});

describe('looksSecret', () => {
  it.each(['password', 'apiKey', 'sessionToken', 'secret_access_key', 'credentials', 'AUTH_HEADER'])(
    '%s is secret',
    (name) => expect(looksSecret(name)).toBe(true),
  );
  it.each(['maxKeys', 'region', 'bucket', 'monkey', 'tokenizer'])('%s is not', (name) =>
    expect(looksSecret(name)).toBe(false),
  );
});

describe('parseConfig', () => {
  const Schema = z
    .object({
      apiToken: z.string().min(20).optional(),
      password: z.enum(['hunter2-but-longer']).optional(),
      retries: z.number().int().min(0).max(10).default(3),
      mode: z.enum(['fast', 'safe']).default('safe'),
    })
    .strict();

  it('returns the parsed value', () => {
    expect(parseConfig(Schema, {})).toEqual({ retries: 3, mode: 'safe' });
  });

  it('never quotes the value of a secret-looking field', () => {
    // Act
    const error = errorOf(() =>
      parseConfig(Schema, { apiToken: 'sk-live-123', password: 'hunter3' }, 'app.json'),
    );

    // Assess
    expect(error.message).toContain('apiToken: must be at least 20 characters long, got 11');
    expect(error.message).toContain('password: must be "hunter2-but-longer", got a string');
    expect(error.message).not.toContain('sk-live-123');
    expect(error.message).not.toContain('hunter3');
  });

  it('quotes plain values, and names the field of the first problem', () => {
    // Act
    const error = errorOf(() => parseConfig(Schema, { retries: 11, mode: 'fsat', extra: 1 }, 'app.json'));

    // Assess
    expect(error.field).toBe('retries');
    expect(error.message).toContain('retries: must be at most 10, got 11');
    expect(error.message).toContain('mode: must be one of "fast", "safe", got "fsat" (did you mean "fast"?)');
    expect(error.message).toContain(
      'top level: unknown key "extra"; remove it (keys allowed here: apiToken, password, retries, mode)',
    );
  });
});

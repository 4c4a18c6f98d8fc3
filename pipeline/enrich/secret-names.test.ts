import { describe, expect, it } from 'vitest';
import { isSecretFieldName } from './secret-names.ts';

describe('isSecretFieldName', () => {
  it.each([
    'password',
    'db_pass',
    'smtp_pass',
    'storepass',
    'newPwd',
    'confirm_pw',
    'pass2',
    'user_pin',
    'card_pin',
    'pin_number',
    'security_code',
    'verification_code',
    'backup_code',
    'totp_seed',
    'tokenString',
    'token_info',
    'x-user-pass',
    'x-hmac',
    'x-sign',
    'senha',
    'kennwort',
    'mot_de_passe',
    'contraseña',
  ])('takes %s for a secret', (name) => {
    expect(isSecretFieldName(name)).toBe(true);
  });

  it.each([
    'bypass',
    'cache_bypass',
    'compass',
    'boarding_pass',
    'first_pass',
    'lowpass',
    'renderPass',
    'passenger',
    'map_pin',
    'location_pin',
    'gpio_pin',
    'hairpin',
    'topspin',
    'pinned',
    'kpw',
    'sign',
    'hmac_algorithm',
    'use_hmac',
    'backup_code_count',
    'status_code',
    'max_tokens',
    'tokens_used',
    'token_count',
    'tokenizer',
    'author',
  ])('keeps %s: an ordinary field', (name) => {
    expect(isSecretFieldName(name)).toBe(false);
  });
});

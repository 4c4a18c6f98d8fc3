/**
 * Finds credentials by their shape, wherever they appear in free text (bodies, paths, header and
 * query values): JWTs, bearer and basic credentials, AWS access key ids, well-known API key
 * formats, PEM private keys, passwords in URLs, and payment card numbers (13-19 digits that pass
 * the Luhn check and start like a card network's number, so that epoch timestamps, which start
 * with 1, are left alone).
 *
 * One global regular expression with alternatives, so that text without secrets costs one scan
 * and no allocation: `String.prototype.replace` returns the same string when nothing matches.
 */
const SECRET_SHAPES = new RegExp(
  [
    /(eyJ[\w-]{2,}\.eyJ[\w-]{2,}\.[\w-]*)/.source,
    /\b((?:AKIA|ASIA)[0-9A-Z]{16})\b/.source,
    /\b([Bb]earer)\s+([\w\-.~+/]+=*)/.source,
    /\b(Basic)\s+([A-Za-z0-9+/]{8,}={0,2})/.source,
    /\b((?:sk|rk)_live_[0-9A-Za-z]{10,}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abposr]-[A-Za-z0-9-]{10,})/.source,
    /(-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$))/.source,
    /(:\/\/[^\s:@/?#]+:)([^\s@/?#]+)@/.source,
    /(?<![\w.])([2-6]\d{3}(?:[ -]?\d){9,15})(?!\w)/.source,
  ].join('|'),
  'g',
);

/**
 * Every shape above contains one of these; a short text without any needs no full scan. The card
 * hint is the card pattern's first 13 digits, not just 4: ids and trace ids (UUIDs, hex) often
 * hold 4 digits in a row, rarely 13, and they are most of the header values scanned.
 */
const SHAPE_HINT = /eyJ|A[KS]IA|earer|Basic|_live_|gh[pousr]_|xox|-----BEGIN|:\/\/|[2-6]\d{3}(?:[ -]?\d){9}/;
const HINT_WORTHWHILE_BELOW = 256;

/** False when `text` certainly holds no credential of a known shape. */
export const mayHoldSecret = (text: string): boolean =>
  text.length >= 8 && (text.length >= HINT_WORTHWHILE_BELOW || SHAPE_HINT.test(text));

const luhnValid = (digits: string): boolean => {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
};

/**
 * The length (in characters of `run`) of the longest prefix of a digit run with separators that
 * is a valid card number, or 0. Prefixes matter because the pattern is greedy: a card followed by
 * a short number (`4111 1111 1111 1111 22`) is matched as one run.
 */
const cardPrefixLength = (run: string): number => {
  let digits = '';
  const ends: number[] = [];
  for (let i = 0; i < run.length; i++) {
    const c = run.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      digits += run[i];
      ends.push(i + 1);
    }
  }
  for (let n = Math.min(digits.length, 19); n >= 13; n--) {
    if (luhnValid(digits.slice(0, n))) return ends[n - 1] ?? 0;
  }
  return 0;
};

const record = (found: string[], name: string): void => {
  if (!found.includes(name)) found.push(name);
};

/**
 * `text` with every credential found replaced by a `[REDACTED:kind]` marker (bearer and basic
 * credentials keep their scheme; URL passwords keep the user name). Appends `label:kind` for each
 * kind found to `found`, once.
 */
export function redactSecretsInText(text: string, label: string, found: string[]): string {
  if (!mayHoldSecret(text)) return text;
  return text.replace(
    SECRET_SHAPES,
    (
      match: string,
      jwt?: string,
      awsKey?: string,
      bearer?: string,
      bearerToken?: string,
      basic?: string,
      basicToken?: string,
      apiKey?: string,
      privateKey?: string,
      urlPrefix?: string,
      _urlPassword?: string,
      card?: string,
    ) => {
      if (jwt !== undefined) {
        record(found, `${label}:jwt`);
        return '[REDACTED:jwt]';
      }
      if (awsKey !== undefined) {
        record(found, `${label}:aws_key`);
        return '[REDACTED:aws_key]';
      }
      if (bearer !== undefined && bearerToken !== undefined) {
        // `bearer of bad news` is prose; a credential has digits or is long.
        if (bearer === 'bearer' && bearerToken.length < 16 && !/\d/.test(bearerToken)) return match;
        record(found, `${label}:bearer`);
        return `${bearer} [REDACTED]`;
      }
      if (basic !== undefined && basicToken !== undefined) {
        // base64 of `user:password` mixes cases or digits; `Basic information` does not.
        if (!/[A-Z0-9=+/]/.test(basicToken.slice(1))) return match;
        record(found, `${label}:basic`);
        return 'Basic [REDACTED]';
      }
      if (apiKey !== undefined) {
        record(found, `${label}:api_key`);
        return '[REDACTED:api_key]';
      }
      if (privateKey !== undefined) {
        record(found, `${label}:private_key`);
        return '[REDACTED:private_key]';
      }
      if (urlPrefix !== undefined) {
        record(found, `${label}:url_password`);
        return `${urlPrefix}[REDACTED]@`;
      }
      if (card !== undefined) {
        const end = cardPrefixLength(card);
        if (end === 0) return match;
        record(found, `${label}:card`);
        return `[REDACTED:card]${card.slice(end)}`;
      }
      return match;
    },
  );
}

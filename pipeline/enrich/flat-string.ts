/**
 * `text` as one string. V8 builds a string made by concatenation (`a + b`, a template literal,
 * `+=` in a loop, JSON.stringify's output) as a chain of its parts; a string that is kept (a row
 * until its batch lands, a route's statistics) keeps every part. Reading one character joins the
 * chain in place, and the next scavenge drops the parts. Measured: 100,000 kept ~500-byte header
 * objects took 89 MB of heap as chains, 70 MB joined; a template of a 4,000-segment path built by
 * `+=` held ~220 KB, joined 11 KB.
 */
export const flat = <T extends string | null | undefined>(text: T): T => {
  text?.charCodeAt(0);
  return text;
};

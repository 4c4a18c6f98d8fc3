/**
 * A multipart/form-data body as browsers send it: each field a part named by its
 * Content-Disposition, parts and the closing boundary separated by CRLF.
 */
export const multipartBody = (boundary: string, fields: readonly (readonly [string, string])[]): string =>
  [
    ...fields.flatMap(([name, value]) => [
      `--${boundary}`,
      `Content-Disposition: form-data; name="${name}"`,
      '',
      value,
    ]),
    `--${boundary}--`,
    '',
  ].join('\r\n');

/**
 * Credentials for the local stand-ins when the environment has none: kinesalite and dynalite
 * accept any signature, and s3rver accepts exactly this pair (its default).
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** Local endpoints use the environment's credentials when it has some (a MinIO user's), else ours. */
export const localCredentials = (): typeof LOCAL_CREDENTIALS | undefined =>
  process.env.AWS_ACCESS_KEY_ID ? undefined : LOCAL_CREDENTIALS;

/** True for plain-HTTP endpoints and for loopback hosts: the emulators. */
export function isLocalEndpoint(endpoint: string): boolean {
  const url = new URL(endpoint);
  if (url.protocol === 'http:') return true;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

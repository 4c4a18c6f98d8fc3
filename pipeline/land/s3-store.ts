import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { isLocalEndpoint, localCredentials } from '../aws/local-endpoint.ts';
import { LandError } from '../errors.ts';
import type { ObjectStore } from './object-store.ts';

export interface S3StoreOptions {
  readonly bucket: string;
  /** Folder inside the bucket under which every key goes, e.g. `shardline/`. */
  readonly prefix?: string;
  /** A local stand-in (s3rver, MinIO); unset for AWS. */
  readonly endpoint?: string;
  readonly region: string;
  /** Defaults to true when `endpoint` is set: local stand-ins have no virtual-host buckets. */
  readonly forcePathStyle?: boolean;
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
  /** Keys per ListObjectsV2 page (S3 caps it at 1,000). */
  readonly listPageSize?: number;
}

/** What to tell the operator for S3 errors that retrying cannot fix. */
const PERMANENT: Record<string, string> = {
  AccessDenied:
    'grant this identity s3:PutObject, s3:GetObject and s3:ListBucket on the bucket and prefix (and s3:DeleteObject for `shardline compact`)',
  AllAccessDisabled: 'access to the bucket is disabled; use another bucket',
  AccountProblem: 'the AWS account has a problem; check it in the console',
  NoSuchBucket: 'create the bucket or fix the bucket name in the config',
  InvalidBucketName: 'fix the bucket name in the config',
  InvalidAccessKeyId: 'fix the AWS access key id (credentials or profile)',
  SignatureDoesNotMatch: 'fix the AWS secret access key (credentials or profile)',
  AuthorizationHeaderMalformed: 'set `region` to the region the bucket lives in',
  PermanentRedirect: 'set `region` to the region the bucket lives in',
  NoSuchKey: 'list the store for existing keys',
  CredentialsProviderError:
    'give the process AWS credentials (environment, profile, or an IAM role), or set `lake.endpoint` for a local S3 API',
};

const errorName = (error: unknown): string =>
  typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : 'Error';

const httpStatus = (error: unknown): number | undefined => {
  const meta = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  return meta?.httpStatusCode;
};

/**
 * Objects in an S3 bucket. PutObject is atomic (an object is visible whole or not at all) and
 * S3 lists keys in UTF-8 byte order, which for our ASCII keys is the order `list` promises.
 */
export class S3Store implements ObjectStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly pageSize: number;
  private readonly endpoint: string | undefined;

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.prefix =
      options.prefix === undefined || options.prefix === '' ? '' : `${options.prefix.replace(/\/+$/, '')}/`;
    this.pageSize = options.listPageSize ?? 1000;
    this.endpoint = options.endpoint;
    const config: S3ClientConfig = { region: options.region };
    if (options.credentials) config.credentials = { ...options.credentials };
    else if (options.endpoint !== undefined && isLocalEndpoint(options.endpoint))
      config.credentials = localCredentials();
    if (options.endpoint !== undefined) {
      config.endpoint = options.endpoint;
      // s3rver stores the aws-chunked checksum framing inside the object (see DEPENDENCIES.md).
      config.requestChecksumCalculation = 'WHEN_REQUIRED';
      config.responseChecksumValidation = 'WHEN_REQUIRED';
    }
    config.forcePathStyle = options.forcePathStyle ?? options.endpoint !== undefined;
    this.client = new S3Client(config);
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.prefix + key,
          Body: body,
          ContentLength: body.byteLength,
        }),
      );
    } catch (cause) {
      throw this.landError(`could not put ${key}`, cause);
    }
  }

  async get(key: string): Promise<Uint8Array> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }),
      );
      if (!out.Body) throw new Error('GetObject returned no body');
      return await out.Body.transformToByteArray();
    } catch (cause) {
      throw this.landError(`could not get ${key}`, cause);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
    } catch (cause) {
      throw this.landError(`could not delete ${key}`, cause);
    }
  }

  async list(prefix: string, startAfter?: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.prefix + prefix,
            // StartAfter is ignored by S3 once a continuation token is given.
            StartAfter:
              token === undefined && startAfter !== undefined ? this.prefix + startAfter : undefined,
            ContinuationToken: token,
            MaxKeys: this.pageSize,
          }),
        );
        for (const object of page.Contents ?? []) {
          if (object.Key !== undefined) keys.push(object.Key.slice(this.prefix.length));
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (cause) {
      throw this.landError(`could not list ${prefix}`, cause);
    }
    // S3 already returns byte order; sorting again makes the promise independent of stand-ins.
    return keys.sort();
  }

  describe(): string {
    const where = `s3://${this.bucket}/${this.prefix}`;
    return this.endpoint === undefined ? where : `${where} (endpoint ${this.endpoint})`;
  }

  /** Closes the HTTP connections of the client. */
  destroy(): void {
    this.client.destroy();
  }

  private landError(what: string, cause: unknown): LandError {
    const name = errorName(cause);
    const fix = PERMANENT[name];
    const detail = cause instanceof Error ? cause.message : String(cause);
    const status = httpStatus(cause);
    const where = this.describe();
    if (fix !== undefined) {
      return new LandError(
        `${what} in ${where}: ${name}${status ? ` (HTTP ${status})` : ''}: ${detail}; ${fix}`,
        {
          cause,
          retriable: false,
        },
      );
    }
    return new LandError(
      `${what} in ${where}: ${name}${status ? ` (HTTP ${status})` : ''}: ${detail}; will retry (check network and S3 availability if this persists)`,
      { cause, retriable: true },
    );
  }
}

/** See esm-bundle.mjs. */
export declare const DEFAULT_BUNDLE_DIR: string;

export type BundledEntry =
  | { readonly url: URL; readonly fallbackReason?: undefined }
  | { readonly url?: undefined; readonly fallbackReason: string };

export declare function bundleEntry(
  entry: string,
  options: { readonly name: string; readonly dir?: string },
): Promise<BundledEntry>;

export declare function importBundled(entry: string, name: string): Promise<Record<string, unknown>>;

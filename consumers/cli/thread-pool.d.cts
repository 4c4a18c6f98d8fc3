/** See thread-pool.cjs. */
export declare const MAX_THREADS: number;
export declare function threadPoolSize(cores: number): number;
export declare function sizeThreadPool(env: Record<string, string | undefined>, cores?: number): number;

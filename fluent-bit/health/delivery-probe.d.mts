/** Types of delivery-probe.mjs, which stays plain JavaScript so that Node runs it as is. */

export interface DeliverySample {
  /** Milliseconds since the epoch. */
  at: number;
  toSend: number;
  delivered: number;
  retries: number;
  dropped: number;
}

export interface ProbeState {
  last: DeliverySample;
  lastDeliveryAt: number;
  work: { records: number; retries: number };
  waitingSince?: number;
}

export interface DeliveryCounts {
  delivered: number;
  newRecords: number;
  retries: number;
  dropped: number;
  restarted: boolean;
}

export interface DeliveryVerdict {
  state: ProbeState;
  healthy: boolean;
  reason: string;
  counts: DeliveryCounts | undefined;
}

export function sumMetrics(text: string): Map<string, number>;
export function readSample(text: string, at: number): DeliverySample;
export function judgeDelivery(
  state: ProbeState | undefined,
  sample: DeliverySample,
  options: { stallAfterMs: number },
): DeliveryVerdict;
export function parseDuration(text: string): number;
export function formatDuration(ms: number): string;

import type { TierKind } from '../domain/types';

/** One asset to collect, with what the collector needs to know about it (resolved from config/collection.json). */
export interface CollectionTarget {
  tier: string;
  asset: string;
  kind: TierKind;
  intervalMinutes: number;
}

export interface CollectInput {
  /** The tier's name, or "manual" for an ad-hoc list of assets. */
  tier: string;
  targets: CollectionTarget[];
}

export interface CollectAssetResult {
  asset: string;
  rowsWritten: number;
  calls: number;
}

export interface CollectSummary {
  tier: string;
  assets: Array<CollectAssetResult | { asset: string; error: string }>;
  rowsWritten: number;
}

export interface BackfillInput {
  targets: CollectionTarget[];
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  /** How long a backfill activity may go without a heartbeat before another worker takes over (default 30s). */
  heartbeatTimeoutMs?: number;
}

export interface BackfillAssetInput extends CollectionTarget {
  from: number;
  to: number;
}

export interface AssetBackfillProgress {
  asset: string;
  chunksDone: number;
  chunksTotal: number;
  /**
   * Rows inserted or corrected by attempts that checkpointed. Rows a killed attempt wrote after its
   * last heartbeat are stored (and not fetched again) but not counted here.
   */
  rowsWritten: number;
  /** Where the next chunk starts: the checkpoint a resumed attempt continues from. */
  resumeFrom: number;
  resumedFromCheckpoint: boolean;
}

export interface BackfillProgress {
  chunksDone: number;
  chunksTotal: number;
  rowsWritten: number;
  assets: AssetBackfillProgress[];
}

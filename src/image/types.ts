/** The OCI/docker JSON shapes we read, reduced to the fields tsctr uses. */
import type { Platform } from './platform.js';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform & { 'os.version'?: string };
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface ImageIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ContainerConfig {
  User?: string;
  Env?: string[];
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Shell?: string[];
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number };
  OnBuild?: string[] | null;
}

export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  /** The container a commit (or build step) came from. */
  container?: string;
  config?: ContainerConfig;
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
}

/** One image in the local store. Identity is the config digest, as in docker. */
export interface ImageRecord {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  manifestDigest: string;
  layers: string[];
  size: number;
  created: string;
  architecture: string;
  os: string;
  pulledAt: string;
  /** The image this one was built or committed on (docker's Parent). */
  parent?: string;
  /** A build step's result, kept for the build cache and hidden from `images` (docker's intermediate images). */
  intermediate?: boolean;
}

export interface LayerRecord {
  diffId: string;
  size: number;
  /** The compressed blob this layer is known as: the one it was pulled as, or else the one pushed. */
  compressedDigest?: string;
  compressedSize?: number;
  /** Its media type (gzip, zstd...), which says whether push may list it in a gzip manifest. */
  compressedMediaType?: string;
  /**
   * tsctr's own gzip of the layer, when it differs from compressedDigest: what push uploads where
   * the pulled blob cannot be used, remembered so that the next push can HEAD it without
   * compressing the layer again.
   */
  gzipDigest?: string;
  gzipSize?: number;
}

export interface ImagesDoc {
  schemaVersion: number;
  images: Record<string, ImageRecord>;
  layers: Record<string, LayerRecord>;
}

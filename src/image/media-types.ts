/**
 * The media types archives use. Kept apart from the registry client's table so that save and
 * load do not load the HTTP stack.
 */
export const OCI = {
  layout: 'oci-layout',
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

export const DOCKER = {
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  list: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

/** Annotations naming an image in an OCI index: podman reads the first, docker (containerd) the second. */
export const REF_NAME = 'org.opencontainers.image.ref.name';
export const CONTAINERD_NAME = 'io.containerd.image.name';

export const isIndexType = (t: string | undefined) => t === OCI.index || t === DOCKER.list;
export const isManifestType = (t: string | undefined) => t === OCI.manifest || t === DOCKER.manifest;

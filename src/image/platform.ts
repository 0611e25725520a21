/**
 * OCI platforms (`linux/arm64/v8`) and containerd's normalisation of them, so that an index entry
 * written `arm64` matches a request for `arm64/v8` and `x86_64` means amd64.
 */
import os from 'node:os';
import { TsctrError } from '../errors.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** containerd's normalizeArch: canonical architecture and variant, '' being the default variant. */
function normalizeArch(arch: string, variant = ''): [string, string] {
  const a = arch.toLowerCase();
  const v = variant.toLowerCase();
  switch (a) {
    case 'i386':
      return ['386', ''];
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      return ['amd64', v === 'v1' ? '' : v];
    case 'aarch64':
    case 'arm64':
      if (v === '8' || v === 'v8' || v === 'v8.0') return ['arm64', ''];
      if (v === '9' || v === '9.0' || v === 'v9.0') return ['arm64', 'v9'];
      return ['arm64', v];
    case 'armhf':
      return ['arm', 'v7'];
    case 'armel':
      return ['arm', 'v6'];
    case 'arm':
      if (v === '' || v === '7') return ['arm', 'v7'];
      if (v === '5' || v === '6' || v === '8') return ['arm', `v${v}`];
      return ['arm', v];
    default:
      return [a, v];
  }
}

function normalizeOs(s: string): string {
  const o = s.toLowerCase();
  return o === 'macos' ? 'darwin' : o;
}

/** Node's process.arch in Go's GOARCH spelling. */
const GOARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', s390x: 's390x', s390: 's390', riscv64: 'riscv64', loong64: 'loong64', mips: 'mips', mipsel: 'mipsle', ppc: 'ppc' };

export function hostPlatform(): Platform {
  const arch = process.arch === 'ppc64' ? (os.endianness() === 'LE' ? 'ppc64le' : 'ppc64') : (GOARCH[process.arch] ?? process.arch);
  const p: Platform = { os: 'linux', architecture: arch };
  if (arch === 'arm64') p.variant = 'v8';
  if (arch === 'arm') {
    const armVersion = (process.config.variables as Record<string, unknown>).arm_version;
    p.variant = `v${typeof armVersion === 'string' && /^[5-8]$/.test(armVersion) ? armVersion : '7'}`;
  }
  return p;
}

/** `os/arch[/variant]`; architecture aliases (x86_64, aarch64, armhf...) are made canonical. */
export function parsePlatform(s: string): Platform {
  const parts = s.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[A-Za-z0-9_.-]+$/.test(p))) {
    throw new TsctrError(`invalid platform "${s}": expected os/arch[/variant], such as linux/amd64 or linux/arm64/v8`);
  }
  const [osName, arch, variant] = parts as [string, string, string | undefined];
  const [architecture, normVariant] = normalizeArch(arch, variant);
  const p: Platform = { os: normalizeOs(osName), architecture };
  // Keep the variant the user wrote (arm64/v8 stays v8), or the one an alias implies (armhf = v7).
  const v = variant ? variant.toLowerCase() : arch.toLowerCase() === 'armhf' || arch.toLowerCase() === 'armel' ? normVariant : '';
  if (v) p.variant = v;
  return p;
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** Equal after containerd's normalisation: arm64 is arm64/v8, amd64 is amd64/v1, arm is arm/v7. */
export function platformMatches(want: Platform, have: Platform): boolean {
  const [wa, wv] = normalizeArch(want.architecture, want.variant);
  const [ha, hv] = normalizeArch(have.architecture, have.variant);
  return normalizeOs(want.os) === normalizeOs(have.os) && wa === ha && wv === hv;
}

/**
 * The first index entry for `want`. Attestation manifests (platform unknown/unknown) never match;
 * an entry that declares no platform at all is taken only when none matches (containerd takes it too).
 */
export function selectPlatform<T extends { platform?: Platform }>(entries: T[], want: Platform): T | undefined {
  return entries.find((e) => e.platform && e.platform.os !== 'unknown' && platformMatches(want, e.platform)) ?? entries.find((e) => !e.platform);
}

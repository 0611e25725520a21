import { TsctrError } from '../errors.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64' };

export function hostPlatform(): Platform {
  const architecture = ARCH[process.arch] ?? process.arch;
  const p: Platform = { os: 'linux', architecture };
  if (architecture === 'arm64') p.variant = 'v8';
  if (architecture === 'arm') p.variant = 'v7';
  return p;
}

export function parsePlatform(s: string): Platform {
  const parts = s.toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    throw new TsctrError(`invalid platform "${s}": expected os/arch[/variant]`);
  }
  const [os, arch, variant] = parts as [string, string, string | undefined];
  const architecture = arch === 'x86_64' ? 'amd64' : arch === 'aarch64' ? 'arm64' : arch;
  const p: Platform = { os, architecture };
  if (variant) p.variant = variant;
  return p;
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** containerd's normalisation: arm64 means v8 unless said otherwise, amd64's v1 is the default. */
function normVariant(arch: string, variant?: string): string {
  if (arch === 'arm64' && (!variant || variant === 'v8')) return '';
  if (arch === 'amd64' && (!variant || variant === 'v1')) return '';
  return variant ?? '';
}

export function platformMatches(want: Platform, have: Platform): boolean {
  if (want.os !== have.os || want.architecture !== have.architecture) return false;
  const w = normVariant(want.architecture, want.variant);
  const h = normVariant(have.architecture, have.variant);
  // A request without a variant takes any variant; one with a variant needs that variant.
  return want.variant === undefined || w === h;
}

export function selectPlatform<T extends { platform?: Platform }>(entries: T[], want: Platform): T | undefined {
  return entries.find((e) => e.platform && e.platform.os !== 'unknown' && platformMatches(want, e.platform));
}

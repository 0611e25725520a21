/** node:crypto takes ~2 ms to load: loaded on first use, so commands that never hash (ps) do not pay. */
export const nodeCrypto = (): typeof import('node:crypto') => process.getBuiltinModule('node:crypto') as typeof import('node:crypto');

export function sha256(data: Buffer | string): string {
  return `sha256:${nodeCrypto().createHash('sha256').update(data).digest('hex')}`;
}

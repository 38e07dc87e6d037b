/** Compact JWS signing with node:crypto, for DPoP proofs and client assertions. */
import { constants, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { ClientError } from './errors.js';

export function base64url(buf: Buffer): string {
  return buf.toString('base64url');
}

/** Signs a compact JWS (ES256/384/512, RS256/384/512, PS256/384/512, EdDSA) with node:crypto. */
export function signJwt(payload: Record<string, unknown>, privateKey: string | KeyObject, alg: string, header: Record<string, unknown> = { typ: 'JWT' }): string {
  const input = `${base64url(Buffer.from(JSON.stringify({ alg, ...header })))}.${base64url(Buffer.from(JSON.stringify(payload)))}`;
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const bits = alg.slice(2);
  const hash = alg === 'EdDSA' ? null : `sha${bits}`;
  let sig: Buffer;
  if (alg.startsWith('ES')) sig = sign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  else if (alg.startsWith('PS')) sig = sign(hash, Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(bits) / 8 });
  else if (alg.startsWith('RS') || alg === 'EdDSA') sig = sign(hash, Buffer.from(input), key);
  else throw new ClientError('INVALID_ARGUMENT', `Unsupported JWT signing algorithm ${alg}`);
  return `${input}.${base64url(sig)}`;
}

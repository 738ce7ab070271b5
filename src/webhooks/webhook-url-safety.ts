import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import { BlockList, isIP, LookupFunction } from 'node:net';

export const URL_MAX_LENGTH = 2000;

const v4 = (...subnets: [string, number][]) => ({ family: 'ipv4' as const, subnets });
const v6 = (...subnets: [string, number][]) => ({ family: 'ipv6' as const, subnets });

/**
 * Where a webhook must not go when private networks are not allowed: every address that is not a
 * public unicast one. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is judged by its IPv4
 * address (BlockList does that itself); NAT64 and 6to4 addresses by the IPv4 address they embed.
 */
const CATEGORIES = [
  ['unspecified', v4(['0.0.0.0', 8]), v6(['::', 128])],
  ['loopback', v4(['127.0.0.0', 8]), v6(['::1', 128])],
  ['private', v4(['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16])],
  ['carrier-grade NAT', v4(['100.64.0.0', 10])],
  ['link-local', v4(['169.254.0.0', 16]), v6(['fe80::', 10])],
  ['unique-local', v6(['fc00::', 7], ['fec0::', 10], ['64:ff9b:1::', 48])],
  ['multicast', v4(['224.0.0.0', 4]), v6(['ff00::', 8])],
  [
    'documentation',
    v4(['192.0.2.0', 24], ['198.51.100.0', 24], ['203.0.113.0', 24]),
    v6(['2001:db8::', 32], ['3fff::', 20]),
  ],
  [
    'reserved',
    v4(['192.0.0.0', 24], ['192.88.99.0', 24], ['198.18.0.0', 15], ['240.0.0.0', 4]),
    // IPv4-compatible (deprecated) and discard-only.
    v6(['::', 96], ['100::', 64]),
  ],
] as const;

const LISTS: { name: string; list: BlockList }[] = CATEGORIES.map(([name, ...ranges]) => {
  const list = new BlockList();
  for (const range of ranges) {
    for (const [network, prefix] of range.subnets) list.addSubnet(network, prefix, range.family);
  }
  return { name, list };
});

/** The 16 bytes of an IPv6 address (any spelling Node accepts), or undefined. */
function ipv6Bytes(address: string): number[] | undefined {
  if (isIP(address) !== 6) return undefined;
  let text = address.split('%')[0];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (part: string | undefined) =>
    part ? part.split(':').map((h) => parseInt(h, 16)) : [];
  const left = parse(head);
  const right = parse(tail);
  const groups = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/** The IPv4 address that a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address stands for. */
function embeddedIpv4(address: string): string | undefined {
  const bytes = ipv6Bytes(address);
  if (!bytes) return undefined;
  const nat64 = [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];
  if (nat64.every((b, i) => bytes[i] === b)) return bytes.slice(12).join('.');
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return bytes.slice(2, 6).join('.');
  return undefined;
}

/**
 * Why a webhook must not be sent to this address (`loopback`, `private`, ...), or null for a
 * public unicast address. What is not an IP address at all is refused too.
 */
export function blockedCategory(address: string): string | null {
  const family = isIP(address);
  if (family === 0) return 'invalid';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const plain = family === 6 ? address.split('%')[0] : address;
  for (const { name, list } of LISTS) if (list.check(plain, type)) return name;
  const embedded = family === 6 ? embeddedIpv4(plain) : undefined;
  return embedded ? blockedCategory(embedded) : null;
}

/** The host of a URL as a lookup or an IP check wants it (no brackets around IPv6). */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * What is wrong with an endpoint URL in itself (not where it points), or null: an absolute
 * http(s) URL with a host, without credentials, at most URL_MAX_LENGTH characters.
 */
export function urlSyntaxProblem(text: string): string | null {
  if (text.length > URL_MAX_LENGTH) return `must be at most ${URL_MAX_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return 'must be an absolute http or https URL';
  }
  if (!url.hostname) return 'must name a host';
  if (url.username || url.password) return 'must not contain credentials';
  if (/\s/.test(text)) return 'must not contain whitespace';
  return null;
}

/** The addresses a host name resolves to, all of them (`localhost` to 127.0.0.1 and ::1). */
function resolveAll(host: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );
}

/** Why none of `addresses` may be used (the first blocked one), or null when all may. */
function blockedAmong(addresses: string[]): string | null {
  for (const address of addresses) {
    const category = blockedCategory(address);
    if (category) return `resolves to a ${category} address (${address})`;
  }
  return null;
}

/**
 * What is wrong with an endpoint URL where private networks are not allowed (https, and no
 * address of its host blocked), or null. Checked when an endpoint is saved; the delivery checks
 * again, on the address it connects to (guardedLookup), since DNS answers change.
 */
export async function destinationProblem(
  text: string,
  allowPrivateNetworks: boolean,
): Promise<string | null> {
  const syntax = urlSyntaxProblem(text);
  if (syntax || allowPrivateNetworks) return syntax;
  const url = new URL(text);
  if (url.protocol !== 'https:') return 'must use https';
  const host = hostOf(url);
  if (isIP(host)) return blockedAmong([host]);
  try {
    return blockedAmong((await resolveAll(host)).map((a) => a.address));
  } catch {
    return 'does not resolve to any address';
  }
}

/** A lookup that found only addresses a webhook must not reach. */
export class BlockedAddressError extends Error {
  readonly code = 'EADDRBLOCKED';
}

/**
 * The `lookup` of a delivery's socket where private networks are not allowed: it resolves as
 * dns.lookup does and refuses the connection when any address is blocked, so the socket can
 * only connect to an address that was checked just now (no window for DNS rebinding between a
 * check and the connection). Node skips `lookup` for IP literals: check those with
 * blockedCategory() before the request.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  const { all, ...rest } = options;
  dnsLookup(hostname, { ...rest, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    const problem = blockedAmong(addresses.map((a) => a.address));
    if (problem) return callback(new BlockedAddressError(`${hostname} ${problem}`), '', 0);
    if (all) return callback(null, addresses);
    const first = addresses[0];
    return callback(null, first.address, first.family);
  });
};

import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';

/**
 * The server-side request forgery guard of webhooks: a URL is http(s) without credentials, and (unless
 * private addresses are allowed) every address its host resolves to is public, checked when the endpoint is
 * registered and again on every connection (the lookup below), so a name re-pointed at 127.0.0.1 later is
 * refused too.
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  blocked.addSubnet(net, prefix, 'ipv6');

/** True for loopback, private, link-local, carrier-grade NAT, multicast and unspecified addresses. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return blocked.check(mapped[1]!, 'ipv4');
    return blocked.check(address, 'ipv6');
  }
  return true; // not an address at all: refuse
}

/** The checks that need no network: a problem's message, or null. */
export function urlProblem(raw: string): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'Not a URL.';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'Only http and https URLs are accepted.';
  if (u.username || u.password) return 'Credentials in the URL are not accepted.';
  if (!u.hostname) return 'The URL has no host.';
  return null;
}

const hostOf = (u: URL) => u.hostname.replace(/^\[(.*)\]$/, '$1');

/** Resolves the URL's host and refuses it when any address is private (unless allowed). */
export async function addressProblem(raw: string, allowPrivate: boolean): Promise<string | null> {
  const shape = urlProblem(raw);
  if (shape || allowPrivate) return shape;
  const host = hostOf(new URL(raw));
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await new Promise<LookupAddress[]>((ok, ko) => dnsLookup(host, { all: true }, (e, a) => (e ? ko(e) : ok(a))))).map((a) => a.address);
    } catch {
      return `The host ${host} does not resolve.`;
    }
  }
  const bad = addresses.find(isPrivateAddress);
  return bad ? `The host ${host} resolves to a private or loopback address (${bad}).` : null;
}

/** A `lookup` for http.request that refuses private addresses at connection time (DNS re-binding). */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: object, callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      if (!allowPrivate) {
        const bad = list.find((a) => isPrivateAddress(a.address));
        if (bad) return callback(Object.assign(new Error(`Refused: ${hostname} resolves to ${bad.address}, a private address.`), { code: 'EPRIVATE' }), []);
      }
      if ((options as { all?: boolean }).all) return callback(null, list);
      callback(null, list[0]!.address, list[0]!.family);
    });
  };
}

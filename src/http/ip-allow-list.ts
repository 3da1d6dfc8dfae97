// The client IP allow-list (addresses and CIDR ranges) and Kompliant's published sender addresses.
import { BlockList, isIP } from 'node:net';

/**
 * The addresses Kompliant publishes for its webhook deliveries ("Receiving and decrypting
 * webhooks", section "Whitelist IPs"): `3.230.141.132`, `35.166.77.7`, `52.27.236.245`,
 * `54.86.192.161`. Pass them as `allowedIps`, adding your own (a health checker, a local
 * emulator) when needed. The address checked is the adapter's client address: behind a proxy
 * or load balancer, configure the framework to trust it (Express `trust proxy`), or every
 * request shows the proxy's address.
 *
 * @example
 * ```ts
 * kompliantWebhook({ keyStore, onEvent, allowedIps: [...KOMPLIANT_SENDER_IPS, '10.0.0.0/8'] });
 * ```
 */
export const KOMPLIANT_SENDER_IPS: readonly string[] = Object.freeze(['3.230.141.132', '35.166.77.7', '52.27.236.245', '54.86.192.161']);

const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** `::ffff:1.2.3.4` -> `1.2.3.4`; anything else unchanged (zone ids dropped). */
function normalise(address: string): string {
  const bare = address.trim().replace(/%.*$/, '');
  const mapped = MAPPED_V4.exec(bare);
  return mapped?.[1] ?? bare;
}

/**
 * Compiles an allow-list of addresses and CIDR ranges (IPv4 and IPv6, e.g. `203.0.113.7`,
 * `198.51.100.0/24`, `2001:db8::/32`; IPv4-mapped IPv6 such as `::ffff:203.0.113.7` matches
 * its IPv4 form both in the list and in requests). Throws a TypeError naming `optionName` for
 * an entry that is not an address or CIDR, or an empty list.
 *
 * @example
 * ```ts
 * const allowed = createIpAllowList(['203.0.113.0/24', '2001:db8::1']);
 * allowed('::ffff:203.0.113.9'); // true
 * ```
 */
export function createIpAllowList(entries: readonly string[], optionName = 'allowedIps'): (ip: string | undefined) => boolean {
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new TypeError(`${optionName} must be a non-empty array of IP addresses or CIDR ranges`);
  }
  const list = new BlockList();
  for (const entry of entries) {
    const bad = new TypeError(`${optionName}: ${JSON.stringify(String(entry).slice(0, 64))} is not an IP address or CIDR range`);
    if (typeof entry !== 'string') throw bad;
    const [rawAddress = '', prefix, extra] = entry.split('/');
    if (extra !== undefined) throw bad;
    const address = normalise(rawAddress);
    const family = isIP(address);
    if (family === 0) throw bad;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) {
      list.addAddress(address, type);
      continue;
    }
    if (!/^\d{1,3}$/.test(prefix)) throw bad;
    let bits = Number(prefix);
    // A mapped IPv4 CIDR (::ffff:10.0.0.0/104) covers the IPv4 range 10.0.0.0/8.
    if (family === 4 && address !== rawAddress.trim()) bits -= 96;
    if (bits < 0 || bits > (family === 4 ? 32 : 128)) throw bad;
    list.addSubnet(address, bits, type);
  }
  return (ip) => {
    if (typeof ip !== 'string') return false;
    const address = normalise(ip);
    const family = isIP(address);
    if (family === 0) return false;
    return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };
}

import { BlockList, isIP } from 'node:net';

/** A set of IPv4 and IPv6 CIDRs compiled once; `matches` answers for one client address. */
export function cidrMatcher(cidrs: readonly string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const slash = cidr.indexOf('/');
    const network = cidr.slice(0, slash);
    list.addSubnet(network, Number(cidr.slice(slash + 1)), isIP(network) === 6 ? 'ipv6' : 'ipv4');
  }
  return (address) => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
}

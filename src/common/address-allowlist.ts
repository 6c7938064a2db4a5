import proxyaddr from 'proxy-addr';

/** Splits a comma list from configuration, dropping blanks. */
export function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** True when the text is `*` or a comma list that proxy-addr accepts (IPs, CIDRs, `loopback`, …). */
export function isAddressList(value: string): boolean {
  const entries = splitList(value);
  if (entries.length === 1 && entries[0] === '*') return true;
  if (entries.length === 0) return false;
  try {
    proxyaddr.compile(entries);
    return true;
  } catch {
    return false;
  }
}

const VERDICTS_KEPT = 1024;

/**
 * A source-address allowlist. `*` allows everyone (local testing only). IPv4-mapped IPv6
 * addresses (`::ffff:10.0.0.1`) match their IPv4 entries.
 */
export class AddressAllowlist {
  private readonly matches: (address: string) => boolean;
  /**
   * Verdicts of addresses seen, so a provider's few source addresses are not parsed again on
   * every callback (issue 28); bounded, emptied when full.
   */
  private readonly verdicts = new Map<string, boolean>();

  constructor(readonly entries: readonly string[]) {
    if (entries.includes('*')) {
      this.matches = () => true;
    } else {
      const trust = proxyaddr.compile([...entries]);
      this.matches = (address) => trust(address, 0);
    }
  }

  get allowsEveryone(): boolean {
    return this.entries.includes('*');
  }

  allows(address: string | undefined): boolean {
    if (!address) return false;
    const known = this.verdicts.get(address);
    if (known !== undefined) return known;
    let verdict: boolean;
    try {
      verdict = this.matches(address);
    } catch {
      verdict = false;
    }
    if (this.verdicts.size >= VERDICTS_KEPT) this.verdicts.clear();
    this.verdicts.set(address, verdict);
    return verdict;
  }
}

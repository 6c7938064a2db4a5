import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Environment that switches off every provider account PROVIDER_ENV describes. S88Pay verification
 * stays off as in PROVIDER_ENV (the S88Pay accounts of these files carry merchant codes).
 */
export const NO_PROVIDER_ENV: Record<string, string> = {
  S88PAY_VERIFY: 'off',
  NICEPAY_IMID: '',
  NICEPAY_MERCHANT_KEY: '',
  NICEPAY_ALLOWED_IPS: '',
  S88PAY_API_KEY: '',
  S88PAY_SECRET_KEY: '',
  MCPAYMENT_HASH_KEY: '',
  SIDOPULSA_CALLBACK_TOKEN: '',
  SIDOPULSA_ALLOWED_IPS: '',
  PPOB_CALLBACK_TOKEN: '',
  PPOB_ALLOWED_IPS: '',
};

export interface AccountsFileHandle {
  path: string;
  /** Replaces the content atomically (write a sibling, rename over), as a Secret update does. */
  replace(text: string): void;
  remove(): void;
}

/** An accounts file in a fresh directory of its own. */
export function accountsFile(text: string, name = 'accounts.yaml'): AccountsFileHandle {
  const dir = mkdtempSync(join(tmpdir(), 'gateway-accounts-'));
  const path = join(dir, name);
  writeFileSync(path, text);
  let version = 0;
  return {
    path,
    replace(next: string) {
      const staging = join(dir, `.${name}.${++version}`);
      writeFileSync(staging, next);
      renameSync(staging, path);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

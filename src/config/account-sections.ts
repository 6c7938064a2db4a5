import type { ClassConstructor } from 'class-transformer';
import { PROVIDER_NAMES, type Account, type CredentialKey } from './accounts.js';

/**
 * A provider's account section declared in its own folder (docs/architecture.md#adding-a-provider):
 * configuration is below the providers and may not import them, so a provider whose credentials
 * have a shape of their own registers its section here (src/providers/index.ts does it for every
 * plugin's `accounts`) before the configuration is loaded. The five built-in shapes keep their
 * typed fields in ProvidersConfig; a registered section's accounts are in `providers.extra`.
 */

/** What the accounts file gives the section for one account, after its entry class validated it. */
export interface FileAccountEntry {
  id: string;
  allowedIps?: string;
  keys?: Array<{ label?: string; notBefore?: string; notAfter?: string }>;
}

export interface ProviderAccountSection<
  A extends Account = Account,
  V extends object = object,
  E extends FileAccountEntry = FileAccountEntry,
> {
  /** The section's name in the accounts file and its key in `providers.extra`. */
  provider: string;
  /** The environment variables it reads, with their validation rules (src/config/env-*.ts style). */
  environment?: { variables: ClassConstructor<V>; names: readonly string[] };
  /** The one account its variables describe, if they describe one (problems appended). */
  fromEnvironment?(vars: V, problems: string[]): Omit<A, 'allowlist' | 'source'> | null;
  /**
   * The accounts file's account: a class extending `AccountEntry` of accounts-file.ts, its keys
   * declared with `Keys(<class extending KeyEntry>, required)`. Unknown fields are refused.
   */
  entry: ClassConstructor<E>;
  /** The account from a validated entry; `fileKeys` turns its keys into credential keys. */
  fromFile(entry: E): Omit<A, 'allowlist' | 'source'>;
  /** Per key, what tells its callbacks apart from another account's (two accounts may not share it). */
  identity?(account: A, key: A['keys'][number]): string | null;
}

const SECTIONS = new Map<string, ProviderAccountSection>();

/** Adds a provider's section; registering the same section again changes nothing. */
export function registerAccountSection<
  A extends Account,
  V extends object,
  E extends FileAccountEntry,
>(section: ProviderAccountSection<A, V, E>): void {
  const known = SECTIONS.get(section.provider);
  if (known === (section as unknown as ProviderAccountSection)) return;
  // The built-in sections and the file's own field keep their names.
  const taken = [...PROVIDER_NAMES, 'removeAllAccounts'] as readonly string[];
  if (known || taken.includes(section.provider))
    throw new Error(`account section "${section.provider}" is already defined`);
  SECTIONS.set(section.provider, section as unknown as ProviderAccountSection);
}

/** The registered sections, in registration order. */
export function accountSections(): readonly ProviderAccountSection[] {
  return [...SECTIONS.values()];
}

/** An accounts-file key list as credential keys: `label` else the 1-based position, and the window. */
export function fileKeys<E extends { label?: string; notBefore?: string; notAfter?: string }, S>(
  entries: readonly E[],
  secret: (entry: E) => S,
): Array<CredentialKey & S> {
  return entries.map((entry, i) => ({
    label: entry.label ?? String(i + 1),
    notBefore: entry.notBefore ? new Date(entry.notBefore) : null,
    notAfter: entry.notAfter ? new Date(entry.notAfter) : null,
    ...secret(entry),
  }));
}

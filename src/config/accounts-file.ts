import 'reflect-metadata';
import { plainToInstance, Transform, Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MinLength,
  ValidateBy,
  ValidateNested,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { isAddressList } from '../common/address-allowlist.js';
import { accountSections, type FileAccountEntry } from './account-sections.js';
import { PROVIDER_NAMES, type ProviderName } from './accounts.js';

/**
 * The accounts file (ACCOUNTS_FILE), YAML or JSON: per provider an optional `allowedIps` and a list
 * of `accounts`, each with an `id`, its provider's identifiers and a list of `keys` (each with an
 * optional `label`, `notBefore`, `notAfter`). Unknown fields are refused: a misspelt `notAfter`
 * silently ignored would keep a retired key valid forever. Messages name the file, the account and
 * the field, never a value.
 */

const ACCOUNT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const KEY_LABEL = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const URL_TOKEN = /^[A-Za-z0-9._~-]{16,}$/;
/** RFC 3339 with an explicit zone: a time without one would depend on the machine's zone. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;

const SECRET = 'must be a non-empty string (quote it if YAML would read it as a number)';
/** Labels and ids are not secrets: a YAML number (`label: 2026`) is taken as its text. */
const numberAsText = ({ value }: { value: unknown }) =>
  typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
const joinList = ({ value }: { value: unknown }) =>
  Array.isArray(value) && value.every((v) => typeof v === 'string') ? value.join(',') : value;

export function IsSecret(): PropertyDecorator {
  return (target, property) => {
    IsString({ message: SECRET })(target, property);
    MinLength(1, { message: SECRET })(target, property);
  };
}

function IsTime(): PropertyDecorator {
  return ValidateBy({
    name: 'isRfc3339',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' && RFC3339.test(value) && !Number.isNaN(Date.parse(value)),
      defaultMessage: () =>
        'must be an RFC 3339 time with a zone, e.g. 2026-03-01T00:00:00Z (quoted in YAML)',
    },
  });
}

function IsAllowlist(): PropertyDecorator {
  return ValidateBy({
    name: 'isAllowlist',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && isAddressList(value),
      defaultMessage: () => 'must be a list (or comma list) of IP addresses or CIDR ranges, or *',
    },
  });
}

/** The built-in providers' names and those of registered sections (read when validating). */
const providerNames = () => [
  ...PROVIDER_NAMES,
  ...accountSections().map((declared) => declared.provider),
];
function IsProviderName(): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isProviderName',
      validator: {
        validate: (value: unknown) => providerNames().includes(value as string),
        defaultMessage: () => `must list only ${providerNames().join(', ')}`,
      },
    },
    { each: true },
  );
}

const AccountId = () =>
  Matches(ACCOUNT_ID, {
    message: 'must be 1-64 letters, digits, dots, colons, dashes or underscores',
  });

export class KeyEntry {
  @IsOptional()
  @Transform(numberAsText)
  @Matches(KEY_LABEL, {
    message: 'must be 1-64 letters, digits, dots, colons, dashes or underscores',
  })
  label?: string;

  @IsOptional()
  @IsTime()
  notBefore?: string;

  @IsOptional()
  @IsTime()
  notAfter?: string;
}

class NicepayKeyEntry extends KeyEntry {
  @IsSecret() merchantKey!: string;
}
class McpaymentKeyEntry extends KeyEntry {
  @IsSecret() hashKey!: string;
}
class S88payKeyEntry extends KeyEntry {
  @IsSecret() apiKey!: string;
  @IsSecret() secretKey!: string;
}
class UrlTokenKeyEntry extends KeyEntry {
  @Matches(URL_TOKEN, {
    message: 'must be at least 16 URL-safe characters (A-Z a-z 0-9 . _ ~ -)',
  })
  token!: string;
}

class SnapKeyEntry extends KeyEntry {
  @IsOptional() @IsSecret() publicKey?: string;
  @IsOptional() @IsSecret() clientSecret?: string;
  @IsOptional() @IsSecret() privateKey?: string;
}

/** A list of keys of `entry`'s class; `required`: at least one. */
export const Keys = (entry: new () => KeyEntry, required: boolean): PropertyDecorator => {
  return (target, property) => {
    if (!required) IsOptional()(target, property);
    IsArray({ message: 'must be a list of keys' })(target, property);
    if (required) ArrayMinSize(1, { message: 'must list at least one key' })(target, property);
    ValidateNested({ each: true })(target, property);
    Type(() => entry)(target, property);
  };
};

export class AccountEntry {
  @Transform(numberAsText)
  @AccountId()
  id!: string;

  @IsOptional()
  @Transform(joinList)
  @IsAllowlist()
  allowedIps?: string;
}

export class NicepayAccountEntry extends AccountEntry {
  @Matches(/^[\w-]+$/, { message: 'must be a merchant id (letters, digits, dashes)' })
  iMid!: string;

  @Keys(NicepayKeyEntry, true) keys!: NicepayKeyEntry[];
}

export class McpaymentAccountEntry extends AccountEntry {
  @IsOptional() @IsSecret() subMerchantId?: string;
  /** Status API: Basic auth merchant_id:secret_unbound_id. */
  @IsOptional() @IsSecret() merchantId?: string;
  @IsOptional() @IsSecret() secretUnboundId?: string;

  @Keys(McpaymentKeyEntry, true) keys!: McpaymentKeyEntry[];
}

export class S88payAccountEntry extends AccountEntry {
  @IsOptional() @IsSecret() merchantCode?: string;

  @Keys(S88payKeyEntry, true) keys!: S88payKeyEntry[];
}

export class UrlTokenAccountEntry extends AccountEntry {
  /** No keys: the account is reached without a token, by the allowlist alone. */
  @Keys(UrlTokenKeyEntry, false) keys?: UrlTokenKeyEntry[];
}

/** SNAP (docs/snap.md): a profile by name, overrides of any of its fields, and the ids. */
export class SnapAccountEntry extends AccountEntry {
  @IsString({ message: "must name a shipped profile or one of this section's profiles" })
  profile!: string;

  @IsOptional()
  @IsObject({ message: 'must be a mapping of profile fields' })
  override?: Record<string, unknown>;

  @IsOptional() @IsSecret() partnerId?: string;
  @IsOptional() @IsSecret() clientKey?: string;
  @IsOptional() @IsSecret() channelId?: string;
  @IsOptional()
  @Matches(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, { message: 'must be an http(s) URL' })
  apiUrl?: string;

  @Keys(SnapKeyEntry, true) keys!: SnapKeyEntry[];
}

const Accounts = (entry: new () => AccountEntry): PropertyDecorator => {
  return (target, property) => {
    IsArray({ message: 'must be a list of accounts' })(target, property);
    ArrayMinSize(1, { message: 'must list at least one account' })(target, property);
    ValidateNested({ each: true })(target, property);
    Type(() => entry)(target, property);
  };
};

class Section {
  @IsOptional()
  @Transform(joinList)
  @IsAllowlist()
  allowedIps?: string;
}
class NicepaySection extends Section {
  @Accounts(NicepayAccountEntry) accounts!: NicepayAccountEntry[];
}
class McpaymentSection extends Section {
  @Accounts(McpaymentAccountEntry) accounts!: McpaymentAccountEntry[];
}
class S88paySection extends Section {
  @Accounts(S88payAccountEntry) accounts!: S88payAccountEntry[];
}
class SnapSection extends Section {
  /** Profiles defined in the file, by name (checked when the accounts are built). */
  @IsOptional()
  @IsObject({ message: 'must be a mapping of profile names to profiles' })
  profiles?: Record<string, Record<string, unknown>>;

  @Accounts(SnapAccountEntry) accounts!: SnapAccountEntry[];
}
class UrlTokenSection extends Section {
  @Accounts(UrlTokenAccountEntry) accounts!: UrlTokenAccountEntry[];
}

const SectionOf = (section: new () => Section): PropertyDecorator => {
  return (target, property) => {
    IsOptional()(target, property);
    ValidateNested()(target, property);
    Type(() => section)(target, property);
  };
};

export class AccountsFile {
  /**
   * Providers whose accounts this version of the file may remove all at once (a reload that
   * empties a provider that had accounts is refused otherwise). Meant for the one change that
   * retires a provider's accounts; docs/accounts.md.
   */
  @IsOptional()
  @IsArray({ message: 'must be a list of provider names' })
  @IsProviderName()
  removeAllAccounts?: string[];

  @SectionOf(NicepaySection) nicepay?: NicepaySection;
  @SectionOf(McpaymentSection) mcpayment?: McpaymentSection;
  @SectionOf(S88paySection) s88pay?: S88paySection;
  @SectionOf(UrlTokenSection) sidopulsa?: UrlTokenSection;
  @SectionOf(UrlTokenSection) ppob?: UrlTokenSection;
  @SectionOf(SnapSection) snap?: SnapSection;
}

export interface ProviderSection<A extends AccountEntry> {
  allowedIps?: string;
  accounts: A[];
}
export type SectionOf<P extends ProviderName> = NonNullable<AccountsFile[P]>;

function pathText(path: string[]): string {
  return path
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('');
}

/**
 * `<file>: nicepay account "va" keys[1].merchantKey: must be …` — the account named by its id when
 * it has a readable one, else by its position; values are never shown.
 */
export function locate(file: string, raw: unknown, path: string[]): string {
  const [provider, list, index, ...rest] = path;
  if (list === 'accounts' && index !== undefined && /^\d+$/.test(index)) {
    const entry = (raw as Record<string, { accounts?: unknown[] }>)?.[provider]?.accounts?.[
      Number(index)
    ] as { id?: unknown } | undefined;
    const name =
      typeof entry?.id === 'string' && ACCOUNT_ID.test(entry.id)
        ? `"${entry.id}"`
        : `#${Number(index) + 1}`;
    return `${file}: ${provider} account ${name}${rest.length > 0 ? ` ${pathText(rest)}` : ''}`;
  }
  return `${file}: ${pathText(path)}`;
}

function messagesOf(error: ValidationError): string[] {
  return Object.entries(error.constraints ?? {}).map(([rule, message]) => {
    if (rule === 'whitelistValidation') return 'is not a known field (check its spelling)';
    if (rule === 'nestedValidation') return 'must be a mapping of fields';
    return message;
  });
}

function describe(
  file: string,
  raw: unknown,
  errors: ValidationError[],
  path: string[] = [],
): string[] {
  return errors.flatMap((error) => {
    const here = [...path, error.property];
    return [
      ...messagesOf(error).map((message) => `${locate(file, raw, here)}: ${message}`),
      ...describe(file, raw, error.children ?? [], here),
    ];
  });
}

/** Text → plain data: YAML 1.2 (JSON is a subset). Errors give line and column, never the text. */
function parseText(file: string, text: string): { data?: unknown; problems: string[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return `${file}: not valid YAML or JSON at line ${line}, column ${col}: ${error.message}`;
      }),
    };
  }
  return { data: doc.toJS({ maxAliasCount: 100 }) as unknown, problems: [] };
}

export interface ReadAccountsFile {
  file: AccountsFile | null;
  /** The sections of providers that registered one (account-sections.ts), by name. */
  sections: Map<string, ProviderSection<FileAccountEntry>>;
  problems: string[];
}

/** The file's `<provider>:` of a registered provider, validated like a built-in section. */
interface RegisteredFile {
  section?: Section;
}
const REGISTERED_FILES = new WeakMap<new () => object, new () => RegisteredFile>();
function registeredFileOf(entry: new () => object): new () => RegisteredFile {
  let made = REGISTERED_FILES.get(entry);
  if (!made) {
    class RegisteredSection extends Section {
      @Accounts(entry as new () => AccountEntry) accounts!: AccountEntry[];
    }
    class File implements RegisteredFile {
      @SectionOf(RegisteredSection) section?: RegisteredSection;
    }
    made = File;
    REGISTERED_FILES.set(entry, made);
  }
  return made;
}

/** The registered providers' sections; problems are named as the built-in sections' are. */
function readRegisteredSections(
  path: string,
  raw: Record<string, unknown>,
): { sections: ReadAccountsFile['sections']; names: Set<string>; problems: string[] } {
  const names = new Set(accountSections().map((declared) => declared.provider));
  const sections: ReadAccountsFile['sections'] = new Map();
  const problems: string[] = [];
  for (const declared of accountSections()) {
    if (raw[declared.provider] === undefined) continue;
    const read = plainToInstance(registeredFileOf(declared.entry), {
      section: raw[declared.provider],
    });
    const errors = validateSync(read, { whitelist: true, forbidNonWhitelisted: true });
    const named = errors.map((error) => ({ ...error, property: declared.provider }));
    problems.push(...describe(path, raw, named));
    if (errors.length === 0 && read.section)
      sections.set(declared.provider, read.section as ProviderSection<FileAccountEntry>);
  }
  return { sections, names, problems };
}

/** Reads, parses and validates the file's shape; cross-account rules are checked when building. */
export function readAccountsFile(path: string): ReadAccountsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return {
      file: null,
      sections: new Map(),
      problems: [`${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`],
    };
  }
  const parsed = parseText(path, text);
  if (parsed.problems.length > 0)
    return { file: null, sections: new Map(), problems: parsed.problems };
  // An empty file (or one of comments or blanks only) is what a truncate-then-write or a mount
  // caught half-way shows: refused, never read as "no accounts". `{}` says that on purpose.
  if (parsed.data === undefined || parsed.data === null) {
    return {
      file: null,
      sections: new Map(),
      problems: [
        `${path}: is empty (no providers, not even {}): refused as a file caught while being written; write {} for a file that configures no accounts`,
      ],
    };
  }
  const raw = parsed.data;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return {
      file: null,
      sections: new Map(),
      problems: [
        `${path}: must be a mapping of providers (${PROVIDER_NAMES.join(', ')}) to their accounts`,
      ],
    };
  }
  // A registered provider's section is read by its own rules; the rest by AccountsFile's, which
  // still refuses a section nobody declared.
  const registered = readRegisteredSections(path, raw as Record<string, unknown>);
  const builtIn = Object.fromEntries(
    Object.entries(raw).filter(([name]) => !registered.names.has(name)),
  );
  const file = plainToInstance(AccountsFile, builtIn);
  const errors = validateSync(file, { whitelist: true, forbidNonWhitelisted: true });
  const problems = [...describe(path, raw, errors), ...registered.problems];
  if (problems.length > 0) return { file: null, sections: new Map(), problems };
  return { file, sections: registered.sections, problems: [] };
}

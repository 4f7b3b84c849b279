/**
 * Settings: every tunable and limit of the platform, defined ONCE (settings-definitions.ts) and
 * read through one interface with global, namespace and task-queue scopes — the shape of
 * Temporal's dynamic config. Overrides come from the server's configuration file:
 *
 * ```yaml
 * settings:
 *   limit.blobSize.error:
 *     - value: 2097152                       # global
 *     - value: 1048576
 *       constraints: { namespace: billing }  # this namespace only
 *   matching.longPollExpirationInterval:
 *     - value: 30s
 *       constraints: { namespace: default, taskQueue: orders }
 * ```
 *
 * The most specific matching override wins (task queue + namespace, then namespace, then global),
 * then the definition's default. Lookups are a Map access and a short scan, cheap enough for hot paths.
 */
import { InvalidArgumentError } from './errors';
import { didYouMean } from './text';

export type SettingScope = 'global' | 'namespace' | 'taskQueue';

/** Parses a configured value into the setting's type; throws a message saying what is wrong. */
export type SettingParser<T> = (value: unknown) => T;

export interface SettingDefinition<T> {
  /** Dotted name, as in Temporal's dynamic config (`limit.blobSize.error`). Persisted in config files: never rename. */
  readonly key: string;
  /** The narrowest scope an override may name. */
  readonly scope: SettingScope;
  readonly defaultValue: T;
  readonly parse: SettingParser<T>;
  readonly description: string;
}

/** Where a lookup happens: overrides constrained to other namespaces or task queues do not apply. */
export interface SettingsScope {
  /** Namespace name. */
  namespace?: string;
  taskQueue?: string;
}

/** What services read tunables through. */
export interface Settings {
  get<T>(setting: SettingDefinition<T>, scope?: SettingsScope): T;
}

export interface SettingOverride {
  value: unknown;
  constraints?: SettingsScope;
}

/** `key → overrides`, as written in the configuration file's `settings:` section. */
export type SettingOverrides = Record<string, readonly SettingOverride[]>;

interface ParsedOverride {
  value: unknown;
  namespace: string | undefined;
  taskQueue: string | undefined;
  /** 2 = namespace + task queue, 1 = namespace or task queue, 0 = global. */
  specificity: number;
}

const registry = new Map<string, SettingDefinition<unknown>>();

export function defineSetting<T>(definition: SettingDefinition<T>): SettingDefinition<T> {
  if (registry.has(definition.key)) throw new Error(`setting ${definition.key} is defined twice`);
  registry.set(definition.key, definition as SettingDefinition<unknown>);
  return definition;
}

/** Every defined setting, for documentation and config validation. */
export function allSettings(): readonly SettingDefinition<unknown>[] {
  return [...registry.values()];
}

export class SettingsRegistry implements Settings {
  private readonly overrides = new Map<string, ParsedOverride[]>();

  /** Validates every override against its definition; an unknown key or bad value is an InvalidArgumentError naming it. */
  constructor(overrides: SettingOverrides = {}) {
    for (const [key, entries] of Object.entries(overrides)) {
      const definition = registry.get(key);
      if (!definition) throw new InvalidArgumentError(`settings: unknown setting ${JSON.stringify(key)}${suggestion(key)}`);
      const parsed = entries.map((entry, i) => parseOverride(definition, entry, `settings.${key}[${i}]`));
      // Most specific first, so a lookup takes the first that matches.
      parsed.sort((a, b) => b.specificity - a.specificity);
      this.overrides.set(key, parsed);
    }
  }

  get<T>(setting: SettingDefinition<T>, scope: SettingsScope = {}): T {
    const entries = this.overrides.get(setting.key);
    if (!entries) return setting.defaultValue;
    for (const entry of entries) {
      if (entry.namespace !== undefined && entry.namespace !== scope.namespace) continue;
      if (entry.taskQueue !== undefined && entry.taskQueue !== scope.taskQueue) continue;
      return entry.value as T;
    }
    return setting.defaultValue;
  }
}

/** `base` with some settings replaced (e.g. what a time-skipping test server must hold). */
export function overlaySettings(base: Settings, overrides: SettingOverrides): Settings {
  const overlay = new SettingsRegistry(overrides);
  const keys = new Set(Object.keys(overrides));
  return { get: (setting, scope) => (keys.has(setting.key) ? overlay.get(setting, scope) : base.get(setting, scope)) };
}

/** Defaults only: for unit tests and embedded uses that configure nothing. */
export const DEFAULT_SETTINGS: Settings = { get: (setting) => setting.defaultValue };

function parseOverride(definition: SettingDefinition<unknown>, entry: SettingOverride, where: string): ParsedOverride {
  const namespace = entry.constraints?.namespace;
  const taskQueue = entry.constraints?.taskQueue;
  if (taskQueue !== undefined && definition.scope !== 'taskQueue') {
    throw new InvalidArgumentError(`${where}: ${definition.key} cannot differ per task queue (its scope is ${definition.scope})`);
  }
  if (namespace !== undefined && definition.scope === 'global') {
    throw new InvalidArgumentError(`${where}: ${definition.key} cannot differ per namespace (it is a global setting)`);
  }
  let value: unknown;
  try {
    value = definition.parse(entry.value);
  } catch (err) {
    throw new InvalidArgumentError(`${where}: ${(err as Error).message}`);
  }
  return { value, namespace, taskQueue, specificity: (namespace !== undefined ? 1 : 0) + (taskQueue !== undefined ? 1 : 0) };
}

function suggestion(key: string): string {
  return didYouMean(key, registry.keys());
}

// --- Parsers for the common value types -------------------------------------------------------

/** A non-negative integer (counts, byte sizes). Accepts numbers and numeric strings. */
export function integerSetting(min = 0): SettingParser<number> {
  return (value) => {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) throw new Error(`expected a whole number of at least ${min}, got ${describe(value)}`);
    return n;
  };
}

/** A number, fractions allowed, between `min` and `max` inclusive (ratios, percentages). Accepts numeric strings. */
export function numberSetting(min: number, max = Number.POSITIVE_INFINITY): SettingParser<number> {
  return (value) => {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) {
      throw new Error(`expected a number ${max === Number.POSITIVE_INFINITY ? `of at least ${min}` : `from ${min} to ${max}`}, got ${describe(value)}`);
    }
    return n;
  };
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration in ms: a number of ms, or text such as `500ms`, `30s`, `1m30s`, `2h`, `7d`. */
export function durationSetting(): SettingParser<number> {
  return (value) => {
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
    if (typeof value === 'string') {
      const parts = [...value.trim().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
      if (parts.length > 0 && parts.map((p) => p[0]).join('') === value.trim()) {
        return parts.reduce((total, p) => total + Number(p[1]) * (DURATION_UNITS_MS[p[2] as string] as number), 0);
      }
    }
    throw new Error(`expected a duration such as 500ms, 30s, 5m or a number of milliseconds, got ${describe(value)}`);
  };
}

export function booleanSetting(): SettingParser<boolean> {
  return (value) => {
    if (typeof value === 'boolean') return value;
    if (value === 'true') return true;
    if (value === 'false') return false;
    throw new Error(`expected true or false, got ${describe(value)}`);
  };
}

function describe(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

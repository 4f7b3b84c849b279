/**
 * `hourglass settings`: every definition of the settings registry with its key, scope, default
 * and description, as text for a terminal, Markdown for docs/configuration.md, or JSON.
 */
import { formatBytes, type SettingDefinition } from '@hourglass/common';

export const SETTINGS_FORMATS = ['text', 'markdown', 'json'] as const;
export type SettingsFormat = (typeof SETTINGS_FORMATS)[number];

/**
 * Durations are stored in ms but written `30s` in config files, so the table shows them that way.
 * A definition does not say its type; one whose parser reads `1s` as 1000 is a duration.
 */
function isDuration(definition: SettingDefinition<unknown>): boolean {
  try {
    return definition.parse('1s') === 1000 && definition.parse('1m') === 60_000;
  } catch {
    return false;
  }
}

/** 90000 → 1m30s, 500 → 500ms, 0 → 0s. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const units: [string, number][] = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]];
  let rest = ms;
  let text = '';
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      text += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return text;
}

export function formatDefault(definition: SettingDefinition<unknown>): string {
  const value = definition.defaultValue;
  if (typeof value === 'number' && isDuration(definition)) return formatDuration(value);
  // Byte sizes also read in KB/MB, so 2097152 is recognisable as the 2 MB it is.
  if (typeof value === 'number' && value >= 1024 && /\bbytes\b/.test(definition.description)) return `${value} (${formatBytes(value)})`;
  return String(value);
}

export function formatSettings(definitions: readonly SettingDefinition<unknown>[], format: SettingsFormat): string {
  const sorted = [...definitions].sort((a, b) => a.key.localeCompare(b.key));
  if (format === 'json') {
    return JSON.stringify(sorted.map((d) => ({ key: d.key, scope: d.scope, default: d.defaultValue, description: d.description })), null, 2);
  }
  if (format === 'markdown') {
    const rows = sorted.map((d) => `| \`${d.key}\` | ${d.scope} | \`${formatDefault(d)}\` | ${d.description.replace(/\|/g, '\\|')} |`);
    return ['| key | scope | default | description |', '|---|---|---|---|', ...rows].join('\n');
  }
  return sorted.map((d) => `${d.key}  (scope: ${d.scope}, default: ${formatDefault(d)})\n    ${d.description}`).join('\n');
}

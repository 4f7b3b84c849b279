/**
 * temporal.api.operatorservice.v1.OperatorService: served so the CLI, the UI and the SDKs get a
 * precise answer. Custom search attributes are registered per namespace (namespace admins), within
 * Temporal Cloud's caps per type; Hourglass has no Nexus endpoints (none can be created yet), so
 * that list is empty. Other methods answer UNIMPLEMENTED with their name.
 */
import { InvalidArgumentError, quote, type temporal } from '@hourglass/common';
import type { NamespaceRegistry } from '@hourglass/history';
import {
  CUSTOM_ATTRIBUTE_CAPS,
  INDEXED_VALUE_TYPE_NUMBERS,
  PREDEFINED_SEARCH_ATTRIBUTES,
  RESERVED_SEARCH_ATTRIBUTE_NAMES,
  SYSTEM_SEARCH_ATTRIBUTES,
  searchAttributeTypeOfNumber,
  type SearchAttributeType,
} from '@hourglass/visibility';
import type { HandlerContext, UnaryHandler } from './interceptors';

type os = typeof temporal.api.operatorservice.v1;
type Os<K extends keyof os> = os[K] extends { encode(message: infer M, ...rest: never[]): unknown } ? M : never;

/** Temporal's rule for a custom attribute's name: a letter, then letters, digits, '_' or '-'. */
const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
const MAX_ATTRIBUTE_NAME_LENGTH = 64;

export interface OperatorServiceDeps {
  namespaces: NamespaceRegistry;
}

function osHandler<K extends keyof os>(_request: K, handler: (r: Os<K>, ctx: HandlerContext) => Promise<unknown>): UnaryHandler {
  return handler as UnaryHandler;
}

/** name → IndexedValueType number. */
function typeMap(attributes: Iterable<[string, string]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, type] of attributes) out[name] = INDEXED_VALUE_TYPE_NUMBERS[type as SearchAttributeType] ?? 0;
  return out;
}

/** The attributes every namespace has (system and predefined), as GetSearchAttributes and ListSearchAttributes report them. */
export function builtInSearchAttributes(): Record<string, number> {
  return typeMap([...SYSTEM_SEARCH_ATTRIBUTES, ...PREDEFINED_SEARCH_ATTRIBUTES]);
}

function checkNewAttribute(name: string, type: SearchAttributeType | undefined, typeNumber: number): asserts type is SearchAttributeType {
  if (!ATTRIBUTE_NAME.test(name) || name.length > MAX_ATTRIBUTE_NAME_LENGTH) {
    throw new InvalidArgumentError(`search attribute name ${quote(name)} is not valid: a letter, then letters, digits, '_' or '-', at most ${MAX_ATTRIBUTE_NAME_LENGTH} characters`);
  }
  if (SYSTEM_SEARCH_ATTRIBUTES.has(name) || PREDEFINED_SEARCH_ATTRIBUTES.has(name) || RESERVED_SEARCH_ATTRIBUTE_NAMES.has(name)) {
    throw new InvalidArgumentError(`search attribute ${quote(name)} is a system or reserved name and cannot be registered`);
  }
  if (!type) throw new InvalidArgumentError(`search attribute ${quote(name)}: ${typeNumber} is not an indexed value type (1 Text to 7 KeywordList)`);
}

/**
 * `current` with `wanted` (name → IndexedValueType number) added: names and types checked, an
 * attribute already there with the same type kept, another type refused, the per-type caps of the
 * namespace enforced. Throws InvalidArgumentError naming the attribute; returns a new object.
 */
export function addCustomSearchAttributes(current: Readonly<Record<string, string>>, wanted: Iterable<[string, number]>, namespaceName: string): Record<string, string> {
  const next = { ...current };
  for (const [name, typeNumber] of wanted) {
    const type = searchAttributeTypeOfNumber(Number(typeNumber));
    checkNewAttribute(name, type, Number(typeNumber));
    const existing = next[name];
    // Adding what is already there is a no-op, as in Temporal; a different type is refused.
    if (existing === type) continue;
    if (existing !== undefined) throw new InvalidArgumentError(`search attribute ${quote(name)} already exists with type ${existing}; remove it first to register it as ${type}`);
    next[name] = type;
  }
  for (const [type, cap] of Object.entries(CUSTOM_ATTRIBUTE_CAPS)) {
    const count = Object.values(next).filter((t) => t === type).length;
    if (count > cap) throw new InvalidArgumentError(`namespace ${namespaceName} would have ${count} custom ${type} search attributes, more than the ${cap} allowed`);
  }
  return next;
}

/** name → IndexedValueType number of a namespace's custom attributes (also Cloud's SearchAttributeType numbers). */
export function customSearchAttributeTypes(attributes: Readonly<Record<string, string>> | undefined): Record<string, number> {
  return typeMap(Object.entries(attributes ?? {}));
}

export function operatorServiceHandlers(deps?: OperatorServiceDeps): Record<string, UnaryHandler> {
  const handlers: Record<string, UnaryHandler> = {
    ListNexusEndpoints: async () => ({ endpoints: [] }),
  };
  if (!deps) return handlers;
  const { namespaces } = deps;
  handlers.AddSearchAttributes = osHandler('AddSearchAttributesRequest', async (r, ctx) => {
    const wanted = Object.entries(r.searchAttributes ?? {}).map(([name, type]): [string, number] => [name, Number(type)]);
    if (wanted.length === 0) throw new InvalidArgumentError('searchAttributes must name at least one attribute to add');
    await namespaces.updateSearchAttributes(ctx.namespace.id, (current) => addCustomSearchAttributes(current, wanted, ctx.namespace.name));
    return {};
  });
  handlers.RemoveSearchAttributes = osHandler('RemoveSearchAttributesRequest', async (r, ctx) => {
    const keys = r.searchAttributes ?? [];
    if (keys.length === 0) throw new InvalidArgumentError('searchAttributes must name at least one attribute to remove');
    await namespaces.updateSearchAttributes(ctx.namespace.id, (current) => {
      const next = { ...current };
      for (const name of keys) {
        if (next[name] === undefined) throw new InvalidArgumentError(`search attribute ${quote(name)} is not a custom search attribute of namespace ${ctx.namespace.name}`);
        delete next[name];
      }
      return next;
    });
    return {};
  });
  handlers.ListSearchAttributes = osHandler('ListSearchAttributesRequest', async (_r, ctx) => {
    const namespace = await namespaces.getById(ctx.namespace.id);
    return {
      customAttributes: typeMap(Object.entries(namespace.searchAttributes ?? {})),
      systemAttributes: builtInSearchAttributes(),
      storageSchema: {},
    };
  });
  return handlers;
}

/** Objects as Lua 5.1 table constructors, the way Argo CD hands them to its Lua scripts. */

/** A Lua 5.1 string literal of the UTF-8 bytes of `text`, in ASCII: every other byte as \ddd. */
function luaString(text: string): string {
  let literal = '"';
  for (const byte of Buffer.from(text, 'utf8')) {
    if (byte === 0x22 || byte === 0x5c) literal += `\\${String.fromCharCode(byte)}`;
    else if (byte < 0x20 || byte > 0x7e) literal += `\\${String(byte).padStart(3, '0')}`;
    else literal += String.fromCharCode(byte);
  }
  return `${literal}"`;
}

/**
 * `value` (parsed JSON or YAML) as a Lua table constructor, the way Argo CD hands objects to
 * Lua: maps keyed by string (`["key"] = ...`), lists 1-based, null as nil.
 */
export function toLua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'string') return luaString(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`no Lua literal for ${String(value)}`);
    return String(value);
  }
  if (Array.isArray(value)) return `{ ${value.map(toLua).join(', ')} }`;
  if (typeof value === 'object') {
    const fields = Object.entries(value).map(
      ([key, item]) => `[${luaString(key)}] = ${toLua(item)}`,
    );
    return `{ ${fields.join(', ')} }`;
  }
  throw new Error(`no Lua literal for a ${typeof value}`);
}

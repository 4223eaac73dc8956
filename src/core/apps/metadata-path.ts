// An app's metadata field is a path into its accounts' metadata ("user_data.role"); tokens carry
// the value found there under the path's root. Paths are plain dotted names and never one of the
// names through which JavaScript reaches a prototype: "__proto__.x" would otherwise read and write
// Object.prototype (every object of the process would gain `x`).
const PATH = /^\w+(\.\w+)*$/;
const PROTOTYPE_NAMES = new Set(["__proto__", "constructor", "prototype"]);

/** What is wrong with `path`, worded to follow the setting's name; null when it is a valid path. */
export function metadataPathProblem(path: string): string | null {
  if (!PATH.test(path)) return 'must be a dotted path, e.g. "user_data.role"';
  return path.split(".").some((name) => PROTOTYPE_NAMES.has(name)) ? 'must not use "__proto__", "constructor" or "prototype"' : null;
}

/** The value at `path` in `root`, through own properties only (never a prototype's). */
export function valueAtPath(root: unknown, path: string): unknown {
  let node = root;
  for (const name of path.split(".")) {
    if (typeof node !== "object" || node === null || Array.isArray(node) || !Object.hasOwn(node, name)) return undefined;
    node = (node as Record<string, unknown>)[name];
  }
  return node;
}

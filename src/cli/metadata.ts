// `--metadata user_data.role=admin` and `--metadata-json '{...}'` as the account metadata object the
// AdminService takes: dotted paths build nested objects, as the app's metadata fields read them.
import type { JsonObject } from "@bufbuild/protobuf";
import { metadataPathProblem } from "../core/apps/metadata-path.js";
import { UsageError } from "./usage.js";

type Json = JsonObject;

/** The metadata the options describe, or undefined when neither is given (the account's stays). */
export function metadataOf(pairs: string[] | undefined, json: string | undefined): Json | undefined {
  if (!pairs?.length && json === undefined) return undefined;
  const metadata = json === undefined ? {} : parseObject(json);
  for (const pair of pairs ?? []) {
    const at = pair.indexOf("=");
    const path = pair.slice(0, at);
    if (at < 0) throw new UsageError(`--metadata ${pair}: expected path=value, e.g. user_data.role=admin`);
    // The same path rule as an app's metadata fields: "__proto__.x=1" would otherwise reach Object.prototype.
    const problem = metadataPathProblem(path);
    if (problem) throw new UsageError(`--metadata ${pair}: the path ${problem} (expected path=value, e.g. user_data.role=admin)`);
    setPath(metadata, path.split("."), pair.slice(at + 1), pair);
  }
  return metadata;
}

function parseObject(json: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new UsageError(`--metadata-json: not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new UsageError("--metadata-json: expected a JSON object");
  return value as Json;
}

function setPath(target: Json, keys: string[], value: string, pair: string): void {
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : (node[key] = {});
    // Refused rather than overwritten: "a=1" then "a.b=2" would silently lose one of them.
    if (typeof next !== "object" || next === null || Array.isArray(next)) throw new UsageError(`--metadata ${pair}: "${key}" is already a value, not an object`);
    node = next as Json;
  }
  node[keys[keys.length - 1]!] = value;
}

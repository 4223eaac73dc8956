// OpenAPI 3 documents of the legacy REST surfaces: the route table's paths with schemas from the proto
// descriptors. Yeep's JS client builds its API from each `post.operationId`, so these equal the method names.
// Requests ignore unknown fields (legacy clients send extras), so request schemas allow them; answers are exact.
import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import type { EnvelopeName, LegacyRoute } from "./route-table.js";

type Schema = Record<string, unknown>;

const YEEP_ERROR: Schema = {
  type: "object",
  required: ["ok", "error"],
  additionalProperties: false,
  properties: {
    ok: { type: "boolean", enum: [false] },
    error: {
      type: "object",
      required: ["code", "message"],
      additionalProperties: false,
      properties: {
        code: { type: "integer", description: "Yeep error code (see x-codes).", "x-codes": yeepCodes() },
        message: { type: "string" },
        details: {
          type: "array",
          items: { type: "object", properties: { message: { type: "string" }, path: { type: "array", items: { type: "string" } } } },
        },
        applicableAuthFactorTypes: { type: "array", items: { type: "string" } },
        retryAfter: { type: "integer", description: "Seconds to wait before retrying." },
      },
    },
  },
};

const COSYNC_ERROR: Schema = {
  type: "object",
  required: ["code", "message"],
  additionalProperties: false,
  properties: { code: { type: "integer", description: "Cosync error code (see x-codes).", "x-codes": cosyncCodes() }, message: { type: "string" } },
};

// What each error code means, for readers of the documents (the envelopes hold the reason -> code tables).
function yeepCodes(): Record<string, string> {
  return {
    "400": "Invalid request body: not JSON, wrong types, missing fields (details: {message, path}).",
    "404": "Unknown path under /api/ (HTTP 404).",
    "405": "HTTP method other than POST (HTTP 405).",
    "413": "Body over MAX_BODY_BYTES; the connection is closed.",
    "500": "Internal error.",
    "10000": "Not authenticated: no, invalid, expired or revoked session.",
    "10001": "user.info of an unknown id (with user.read); never sent by sign-in.",
    "10002": "Wrong password or unknown user (same answer).",
    "10012": "Forbidden: another user's account without user.read; TOTP methods on another user.",
    "10022": "Account deactivated (told only after the right password).",
    "10029": "Invalid, used or ended token (refreshToken, destroyToken).",
    "10031": "Wrong TOTP enrollment code.",
    "10032": "TOTP already active.",
    "10033": "No TOTP factor (eject), or no pending enrollment (activate).",
    "10034": "Second factor required: applicableAuthFactorTypes lists the factors.",
    "10035": "Wrong, reused or out-of-window TOTP code.",
    "10429": "Too many attempts; retryAfter seconds.",
    "10503": "Busy or temporarily unavailable; retryAfter seconds.",
  };
}

function cosyncCodes(): Record<string, string> {
  return {
    "400": "Missing or unknown app-token.",
    "401": "The app is deleted.",
    "402": "The app is suspended.",
    "403": "A required parameter is missing.",
    "404": "The user account is suspended (told only after the right password).",
    "405": "Missing, invalid or expired access-token.",
    "408": "The app has no google two-factor.",
    "409": "The app has no phone two-factor.",
    "410": "Phone two-factor without a verified phone.",
    "429": "A limit refused the attempt (HTTP 429, Retry-After).",
    "500": "Internal error, or the SMS could not be sent (HTTP 500, Retry-After).",
    "503": "Hashing queue full, or Redis unreachable (HTTP 503, Retry-After).",
    "600": "Wrong credentials, unknown handle (same answer) or wrong two-factor code.",
    "602": "Invalid data: password not 32 hex characters, non-numeric code, phone not E.164, wrong verification code.",
    "604": "Required metadata missing: no token is issued.",
    "613": "Login token invalid, expired, used, or of another app.",
  };
}

type Direction = "request" | "response";

/** Collects message schemas under components.schemas, named by their full proto type name. */
class Schemas {
  readonly all: Record<string, Schema> = { YeepError: YEEP_ERROR, CosyncError: COSYNC_ERROR };
  private readonly direction = new Map<string, Direction>();

  /** A request message: unknown fields are ignored by the server, so the schema allows them. */
  request = (desc: DescMessage): Schema => this.ref(desc, "request");
  /** A response message: exactly the fields the server writes. */
  response = (desc: DescMessage): Schema => this.ref(desc, "response");

  private ref(desc: DescMessage, dir: Direction): Schema {
    if (desc.typeName === "google.protobuf.Timestamp") return { type: "string", format: "date-time" };
    if (desc.typeName === "google.protobuf.Struct") return { type: "object" };
    const seen = this.direction.get(desc.typeName);
    // One name, one schema: a message on both sides would need two, lenient and exact.
    if (seen && seen !== dir) throw new Error(`${desc.typeName} is used in requests and responses: give the OpenAPI document two schemas for it`);
    if (!seen) {
      this.direction.set(desc.typeName, dir);
      this.all[desc.typeName] = {}; // placeholder first: messages may refer to themselves
      this.all[desc.typeName] = messageSchema(desc, dir, (d) => this.ref(d, dir));
    }
    return { $ref: `#/components/schemas/${desc.typeName}` };
  }
}

const UNKNOWN_FIELDS = "Fields not listed here are ignored (legacy clients may send more).";

const only = (table: readonly LegacyRoute[], envelope: EnvelopeName) => table.filter((route) => route.envelope === envelope);

function yeepPaths(table: readonly LegacyRoute[], schemas: Schemas): Record<string, object> {
  const paths: Record<string, object> = {};
  for (const { path, method } of only(table, "yeep")) {
    const operationId = path.slice("/api/".length);
    const output = messageSchema(method.output, "response", schemas.response);
    paths[path] = {
      post: {
        operationId,
        summary: operationId,
        tags: [operationId.split(".")[0]],
        requestBody: {
          required: true,
          description: UNKNOWN_FIELDS,
          content: { "application/json": { schema: schemas.request(method.input) } },
        },
        responses: {
          "200": {
            description: "Yeep envelope: `ok: true` with the result, or `ok: false` with `error` (always HTTP 200).",
            content: {
              "application/json": {
                schema: {
                  oneOf: [
                    { ...output, required: ["ok"], properties: { ok: { type: "boolean", enum: [true] }, ...(output.properties as Schema) } },
                    { $ref: "#/components/schemas/YeepError" },
                  ],
                },
              },
            },
          },
        },
      },
    };
  }
  return paths;
}

function cosyncPaths(table: readonly LegacyRoute[], schemas: Schemas): Record<string, object> {
  const paths: Record<string, object> = {};
  const error = (description: string) => ({ description, content: { "application/json": { schema: { $ref: "#/components/schemas/CosyncError" } } } });
  for (const { path, method, header, alsoGet } of only(table, "cosync")) {
    const name = method.localName;
    const input = schemas.request(method.input);
    const operation = {
      operationId: `appuser.${name}`,
      summary: `appuser/${name}`,
      tags: ["appuser"],
      parameters: header ? [{ name: header, in: "header", required: true, schema: { type: "string" } }] : [],
      ...(alsoGet
        ? {}
        : {
            requestBody: {
              required: true,
              description: UNKNOWN_FIELDS,
              content: { "application/json": { schema: input }, "application/x-www-form-urlencoded": { schema: input } },
            },
          }),
      responses: {
        "200": { description: "The result (never has a `code` key).", content: { "application/json": { schema: schemas.response(method.output) } } },
        "400": error("Cosync error code (see docs/api.md)."),
        "429": error("Too many attempts; see Retry-After."),
        "500": error("Internal error, or the SMS could not be sent (Retry-After)."),
        "503": error("Busy or temporarily unavailable; see Retry-After."),
      },
    };
    paths[path] = alsoGet ? { get: operation, post: operation } : { post: operation };
  }
  return paths;
}

/** The Yeep-style part alone (GET /api/docs; Yeep's JS client reads it). */
export function yeepOpenApi(table: readonly LegacyRoute[], version: string): object {
  const schemas = new Schemas();
  const paths = yeepPaths(table, schemas);
  return { openapi: "3.0.3", info: { title: "Sign-in: Yeep-style session API", version }, paths, components: { schemas: schemas.all } };
}

/** Both legacy surfaces (GET /api/openapi.json). */
export function legacyOpenApi(table: readonly LegacyRoute[], version: string): object {
  const schemas = new Schemas();
  const paths = { ...yeepPaths(table, schemas), ...cosyncPaths(table, schemas) };
  return {
    openapi: "3.0.3",
    info: { title: "Sign-in: legacy REST APIs (Yeep-style sessions, Cosync-style app users)", version },
    paths,
    components: { schemas: schemas.all },
  };
}

function messageSchema(desc: DescMessage, dir: Direction, ref: (d: DescMessage) => Schema): Schema {
  const properties: Record<string, Schema> = {};
  for (const field of desc.fields) properties[field.jsonName] = fieldSchema(field, ref);
  return { type: "object", properties, additionalProperties: dir === "request" };
}

function fieldSchema(field: DescField, ref: (d: DescMessage) => Schema): Schema {
  switch (field.fieldKind) {
    case "scalar":
      return scalarSchema(field.scalar);
    case "enum":
      return { type: "string", enum: field.enum.values.map((v) => v.name) };
    case "message":
      return ref(field.message);
    case "list":
      if (field.listKind === "scalar") return { type: "array", items: scalarSchema(field.scalar) };
      if (field.listKind === "enum") return { type: "array", items: { type: "string" } };
      return { type: "array", items: ref(field.message) };
    case "map":
      return { type: "object", additionalProperties: field.mapKind === "message" ? ref(field.message) : {} };
  }
}

function scalarSchema(t: ScalarType): Schema {
  switch (t) {
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BYTES:
      return { type: "string", format: "byte" };
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return { type: "number" };
    case ScalarType.INT32:
    case ScalarType.UINT32:
    case ScalarType.SINT32:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
      return { type: "integer", format: "int32" };
    default:
      return { type: "string", format: "int64" }; // 64-bit integers are strings in proto JSON
  }
}

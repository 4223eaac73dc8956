// OpenAPI 3 documents of the legacy REST surfaces: the route table's paths with schemas from the proto
// descriptors. Yeep's JS client builds its API from each `post.operationId`, so these equal the method names.
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
        code: { type: "integer" },
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
  properties: { code: { type: "integer" }, message: { type: "string" } },
};

/** Collects message schemas under components.schemas, named by their full proto type name. */
class Schemas {
  readonly all: Record<string, Schema> = { YeepError: YEEP_ERROR, CosyncError: COSYNC_ERROR };

  ref = (desc: DescMessage): Schema => {
    if (desc.typeName === "google.protobuf.Timestamp") return { type: "string", format: "date-time" };
    if (desc.typeName === "google.protobuf.Struct") return { type: "object" };
    if (!this.all[desc.typeName]) {
      this.all[desc.typeName] = {}; // placeholder first: messages may refer to themselves
      this.all[desc.typeName] = messageSchema(desc, this.ref);
    }
    return { $ref: `#/components/schemas/${desc.typeName}` };
  };
}

const only = (table: readonly LegacyRoute[], envelope: EnvelopeName) => table.filter((route) => route.envelope === envelope);

function yeepPaths(table: readonly LegacyRoute[], schemas: Schemas): Record<string, object> {
  const paths: Record<string, object> = {};
  for (const { path, method } of only(table, "yeep")) {
    const operationId = path.slice("/api/".length);
    const output = messageSchema(method.output, schemas.ref);
    paths[path] = {
      post: {
        operationId,
        summary: operationId,
        tags: [operationId.split(".")[0]],
        requestBody: { required: true, content: { "application/json": { schema: schemas.ref(method.input) } } },
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
    const input = schemas.ref(method.input);
    const operation = {
      operationId: `appuser.${name}`,
      summary: `appuser/${name}`,
      tags: ["appuser"],
      parameters: header ? [{ name: header, in: "header", required: true, schema: { type: "string" } }] : [],
      ...(alsoGet
        ? {}
        : { requestBody: { required: true, content: { "application/json": { schema: input }, "application/x-www-form-urlencoded": { schema: input } } } }),
      responses: {
        "200": { description: "The result (never has a `code` key).", content: { "application/json": { schema: schemas.ref(method.output) } } },
        "400": error("Cosync error code (see README)."),
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

function messageSchema(desc: DescMessage, ref: (d: DescMessage) => Schema): Schema {
  const properties: Record<string, Schema> = {};
  for (const field of desc.fields) properties[field.jsonName] = fieldSchema(field, ref);
  return { type: "object", properties, additionalProperties: false };
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

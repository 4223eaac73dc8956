// OpenAPI 3 document of the Yeep-style methods, derived from the proto descriptors (the
// single description of the API). Yeep's JS client builds its API object from each
// `paths["/api/<method>"].post.operationId`, so these must equal the method names.
import { ScalarType, type DescField, type DescMessage } from "@bufbuild/protobuf";
import type { LegacyRoute } from "./invoke.js";

type Schema = Record<string, unknown>;

export function yeepOpenApi(routes: Iterable<LegacyRoute>, version: string): object {
  const schemas: Record<string, Schema> = {
    Error: {
      type: "object",
      required: ["ok", "error"],
      properties: {
        ok: { type: "boolean", enum: [false] },
        error: {
          type: "object",
          required: ["code", "message"],
          properties: {
            code: { type: "integer" },
            message: { type: "string" },
            details: { type: "array", items: { type: "object" } },
            applicableAuthFactorTypes: { type: "array", items: { type: "string" } },
          },
        },
      },
    },
  };
  const ref = (desc: DescMessage): Schema => {
    if (desc.typeName === "google.protobuf.Timestamp") return { type: "string", format: "date-time" };
    if (!schemas[desc.name]) {
      schemas[desc.name] = {}; // placeholder first: messages may refer to themselves
      schemas[desc.name] = messageSchema(desc, ref);
    }
    return { $ref: `#/components/schemas/${desc.name}` };
  };

  const paths: Record<string, object> = {};
  for (const { path, method } of routes) {
    const operationId = path.slice("/api/".length);
    paths[path] = {
      post: {
        operationId,
        summary: operationId,
        tags: [operationId.split(".")[0]],
        requestBody: { required: true, content: { "application/json": { schema: ref(method.input) } } },
        responses: {
          "200": {
            description: "Yeep envelope: `ok: true` with the result, or `ok: false` with `error`.",
            content: {
              "application/json": {
                schema: {
                  oneOf: [
                    { allOf: [{ type: "object", required: ["ok"], properties: { ok: { type: "boolean", enum: [true] } } }, ref(method.output)] },
                    { $ref: "#/components/schemas/Error" },
                  ],
                },
              },
            },
          },
        },
      },
    };
  }
  return {
    openapi: "3.0.3",
    info: { title: "Sign-in: Yeep-style session API", version },
    paths,
    components: { schemas },
  };
}

function messageSchema(desc: DescMessage, ref: (d: DescMessage) => Schema): Schema {
  const properties: Record<string, Schema> = {};
  for (const field of desc.fields) properties[field.jsonName] = fieldSchema(field, ref);
  return { type: "object", properties };
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

// The legacy route table is written out by hand so a path can be grepped; this holds it to the
// generated descriptors, so a new RPC without its route (or a mistyped path) fails here, fast.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { DescFile, DescService } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { LEGACY_ROUTES } from "../src/transport/legacy/route-table.js";

const GEN = join(import.meta.dirname, "..", "gen", "signin");

/** Every service in every generated file, so a service added later is covered too. */
async function generatedServices(): Promise<DescService[]> {
  const files = readdirSync(GEN, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith("_pb.ts"));
  const services: DescService[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(GEN, file)).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(mod)) if (name.startsWith("file_")) services.push(...(value as DescFile).services);
  }
  return services;
}

// The session list's REST names are shorter than its RPCs' (session.list, not session.listSessions);
// a name with a dot is the whole path (TotpService's recovery codes have their own prefix).
const REST_NAMES: Record<string, string> = {
  listSessions: "list",
  revokeSession: "revoke",
  revokeOtherSessions: "revokeOthers",
  generateRecoveryCodes: "recoveryCodes.generate",
};

/** What the table must hold, derived from the descriptors alone. */
function expectedRoute(service: DescService): Array<{ path: string; envelope: string; rpc: string }> {
  const rpc = (m: DescService["methods"][number]) => `${service.typeName}.${m.name}`;
  if (service.file.proto.package === "signin.session.v1") {
    const prefix = service.name.replace(/Service$/, "").toLowerCase();
    const name = (m: DescService["methods"][number]) => REST_NAMES[m.localName] ?? m.localName;
    return service.methods.map((m) => ({ path: `/api/${name(m).includes(".") ? name(m) : `${prefix}.${name(m)}`}`, envelope: "yeep", rpc: rpc(m) }));
  }
  if (service.typeName === "signin.appuser.v1.AppUserService") {
    return service.methods.map((m) => ({ path: `/api/appuser/${m.localName}`, envelope: "cosync", rpc: rpc(m) }));
  }
  return []; // admin, health: RPC only
}

const byPath = (a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path);

describe("legacy route table", () => {
  it("has one route per Yeep-style and AppUserService method, at the path its name gives, and nothing else", async () => {
    const services = await generatedServices();
    expect(services.map((s) => s.typeName)).toEqual(
      expect.arrayContaining(["signin.session.v1.SessionService", "signin.session.v1.UserService", "signin.session.v1.TotpService", "signin.appuser.v1.AppUserService"]),
    );
    const expected = services.flatMap(expectedRoute).sort(byPath);
    const actual = LEGACY_ROUTES.map((r) => ({ path: r.path, envelope: r.envelope, rpc: `${r.method.parent.typeName}.${r.method.name}` })).sort(byPath);
    expect(actual).toEqual(expected);
  });

  it("names no path twice", () => {
    const paths = LEGACY_ROUTES.map((r) => r.path);
    expect(paths.filter((p, i) => paths.indexOf(p) !== i)).toEqual([]);
  });

  it("gives every Cosync route its token header, and the Yeep routes none (they are POST-only)", () => {
    for (const route of LEGACY_ROUTES) {
      if (route.envelope === "cosync") expect(route.header, route.path).toMatch(/^(app|access)-token$/);
      else expect([route.path, route.header, route.alsoGet]).toEqual([route.path, undefined, undefined]);
    }
  });
});

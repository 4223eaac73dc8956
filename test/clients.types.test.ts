// The typed clients are typed for a consumer: the build's declarations and package.json's exports,
// compiled from a separate strict project that imports `signin/clients` and `signin/clients/web`.
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
let dir: string;

/** Emits the declarations tsconfig.build.json makes for the two client entry points into a copy of the package. */
function buildPackage(pkg: string): void {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.build.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const entries = ["src/clients/node.ts", "src/clients/web.ts"].map((f) => join(root, f));
  const program = ts.createProgram(entries, { ...config.options, outDir: join(pkg, "dist"), declarationMap: false, sourceMap: false });
  program.emit(undefined, undefined, undefined, true); // declarations only
  cpSync(join(root, "package.json"), join(pkg, "package.json"));
  symlinkSync(join(root, "node_modules"), join(pkg, "node_modules"), "dir");
}

// README's snippets. The @ts-expect-error line makes an `any` result (untyped clients) an error too.
const consumer = (issueToken: string) => `
import { createNodeClients } from "signin/clients";
import { createWebClients } from "signin/clients/web";
const signin = createNodeClients({ baseUrl: "http://signin:8080", protocol: "grpc" });
const { token } = await signin.session.issueToken(${issueToken});
const { user } = await signin.user.info({}, { headers: { authorization: \`Bearer \${token}\` } });
const id: string | undefined = user?.id;
const web = createWebClients("https://signin.example.com");
await web.session.setCookie({ user: "coyote", password: "..." });
// @ts-expect-error: the token is a string, never a number
const wrong: number = token;
export { id, wrong };
`;

/**
 * A consumer project (strict, NodeNext; `signin` and @types/node in its node_modules) with one file per
 * case, type-checked once as `tsc -p` would: each file's error messages.
 */
function compileConsumer(project: string, cases: Record<string, string>): Record<string, string[]> {
  mkdirSync(join(project, "node_modules", "@types"), { recursive: true });
  symlinkSync(join(dir, "signin"), join(project, "node_modules", "signin"), "dir");
  symlinkSync(join(root, "node_modules", "@types", "node"), join(project, "node_modules", "@types", "node"), "dir");
  const tsconfig = { compilerOptions: { strict: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", lib: ["ES2023", "DOM"], noEmit: true, skipLibCheck: true } };
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify(tsconfig));
  writeFileSync(join(project, "package.json"), JSON.stringify({ type: "module" }));
  for (const [name, source] of Object.entries(cases)) writeFileSync(join(project, `${name}.ts`), source);
  const config = ts.getParsedCommandLineOfConfigFile(join(project, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
  const diagnostics = ts.getPreEmitDiagnostics(ts.createProgram(config.fileNames, config.options));
  const errors = Object.fromEntries(Object.keys(cases).map((name): [string, string[]] => [name, []]));
  for (const d of diagnostics) {
    const file = d.file ? d.file.fileName.slice(project.length + 1).replace(/\.ts$/, "") : "(project)";
    (errors[file] ??= []).push(`TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
  }
  return errors;
}

let errors: Record<string, string[]>;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "signin-types-"));
  buildPackage(join(dir, "signin"));
  errors = compileConsumer(join(dir, "consumer"), {
    right: consumer(`{ user: "coyote", password: "..." }`),
    wrong: consumer(`{ usr: "coyote", password: "..." }`),
  });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("typed clients from a consumer project", () => {
  it("compiles the README's calls with the right fields", () => {
    expect(errors).toMatchObject({ right: [] });
    expect(Object.keys(errors)).toStrictEqual(["right", "wrong"]); // no error outside the two files
  });

  it("refuses a wrong field name", () => {
    expect(errors.wrong).toStrictEqual([
      "TS2561: Object literal may only specify known properties, but 'usr' does not exist in type 'MessageInit<IssueTokenRequest>'. Did you mean to write 'user'?",
    ]);
  });
});

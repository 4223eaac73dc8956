// The Cosync-style REST surface: `/api/appuser/<method>` (JSON or form-urlencoded bodies;
// getUser also as GET), answered in the Cosync envelope by the same implementation as the RPCs.
import type { Logger } from "../../core/logger.js";
import { failureThrown } from "../services/errors.js";
import type { Implementations } from "../services/routes.js";
import {
  COSYNC_INTERNAL,
  COSYNC_METHOD_NOT_ALLOWED,
  COSYNC_TOO_LARGE,
  cosyncFailure,
  cosyncInvalidData,
  type CosyncAnswer,
} from "./cosync-envelope.js";
import { BodyTooLarge, readBody, sendJson, type Req, type Res } from "./http.js";
import { decodeInput, InvalidBody, invoke, legacyRoutes, type InvokeOptions, type LegacyRoute } from "./invoke.js";

export function cosyncRoutes(impls: Implementations): Map<string, LegacyRoute> {
  return legacyRoutes(impls, (service, method) =>
    service.typeName === "signin.appuser.v1.AppUserService" ? `/api/appuser/${method.localName}` : null,
  );
}

const GET_ALLOWED = new Set(["/api/appuser/getUser"]);

export function cosyncHandler(table: Map<string, LegacyRoute>, opts: { maxBodyBytes: number; log: Logger } & InvokeOptions) {
  const answer = (res: Res, a: CosyncAnswer) => sendJson(res, a.status, a.body, a.headers);

  return async function handle(req: Req, res: Res, path: string): Promise<boolean> {
    const route = table.get(path);
    if (!route) return false;
    if (req.method !== "POST" && !(req.method === "GET" && GET_ALLOWED.has(path))) {
      answer(res, COSYNC_METHOD_NOT_ALLOWED);
      return true;
    }
    let input: unknown;
    try {
      const body = req.method === "GET" ? Buffer.alloc(0) : await readBody(req, opts.maxBodyBytes);
      input = decodeInput(route.method.input, body, req.headers["content-type"], true);
    } catch (err) {
      if (err instanceof BodyTooLarge) return (answer(res, COSYNC_TOO_LARGE), true);
      if (err instanceof InvalidBody) return (answer(res, cosyncInvalidData(err.message)), true);
      throw err;
    }
    try {
      sendJson(res, 200, (await invoke(route, input, req, res, "cosync", opts)).json);
    } catch (err) {
      const failure = failureThrown(err);
      if (!failure) opts.log.error({ err, path, requestId: req.headers["x-request-id"] }, "unexpected error in legacy handler");
      answer(res, failure ? cosyncFailure(failure) : COSYNC_INTERNAL);
    }
    return true;
  };
}

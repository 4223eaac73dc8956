// The Yeep-style REST surface: `POST /api/<service>.<method>` for the session API's services,
// answered in the Yeep envelope by the same implementations as the RPCs.
import { ConnectError } from "@connectrpc/connect";
import type { Logger } from "../../core/logger.js";
import { failureThrown } from "../services/errors.js";
import type { Implementations } from "../services/routes.js";
import { BodyTooLarge, readBody, sendJson, type Req, type Res } from "./http.js";
import { decodeInput, InvalidBody, invoke, legacyRoutes, type InvokeOptions, type LegacyRoute } from "./invoke.js";
import {
  YEEP_INTERNAL,
  YEEP_METHOD_NOT_ALLOWED,
  YEEP_TOO_LARGE,
  yeepFailure,
  yeepFromConnectError,
  yeepInvalidBody,
  yeepOk,
} from "./yeep-envelope.js";

const YEEP_PACKAGE = "signin.session.v1.";

/** `signin.session.v1.SessionService.SetCookie` -> `/api/session.setCookie`. */
export function yeepRoutes(impls: Implementations): Map<string, LegacyRoute> {
  return legacyRoutes(impls, (service, method) =>
    service.typeName.startsWith(YEEP_PACKAGE)
      ? `/api/${service.name.replace(/Service$/, "").toLowerCase()}.${method.localName}`
      : null,
  );
}

export function yeepHandler(table: Map<string, LegacyRoute>, opts: { maxBodyBytes: number; log: Logger } & InvokeOptions) {
  return async function handle(req: Req, res: Res, path: string): Promise<boolean> {
    const route = table.get(path);
    if (!route) return false;
    if (req.method !== "POST") {
      sendJson(res, 405, YEEP_METHOD_NOT_ALLOWED, { allow: "POST" });
      return true;
    }
    let input: unknown;
    try {
      input = decodeInput(route.method.input, await readBody(req, opts.maxBodyBytes), req.headers["content-type"], false);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        // The rest of the body is not read: answer and close rather than drain it.
        sendJson(res, 200, YEEP_TOO_LARGE, { connection: "close" });
        return true;
      }
      if (err instanceof InvalidBody) {
        sendJson(res, 200, yeepInvalidBody([{ message: err.message, path: err.path }]));
        return true;
      }
      throw err;
    }
    try {
      const { json, setCookie } = await invoke(route, input, req, res, "yeep", opts);
      sendJson(res, 200, yeepOk(json), setCookie.length ? { "set-cookie": setCookie } : {});
    } catch (err) {
      const failure = failureThrown(err);
      if (failure) sendJson(res, 200, yeepFailure(failure));
      else if (err instanceof ConnectError) sendJson(res, 200, yeepFromConnectError(err));
      else {
        opts.log.error({ err, path, requestId: req.headers["x-request-id"] }, "unexpected error in legacy handler");
        sendJson(res, 200, YEEP_INTERNAL);
      }
    }
    return true;
  };
}

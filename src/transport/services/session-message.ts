// A listed session as both services answer it (SessionService.Session, AdminService.AccountSession).
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ListedSession } from "../../core/sessions/session-list.js";

export function sessionMessage(s: ListedSession) {
  return {
    id: s.id,
    createdAt: timestampFromDate(new Date(s.createdAt)),
    lastUsedAt: timestampFromDate(new Date(s.lastUsedAt)),
    ip: s.ip,
    userAgent: s.userAgent,
    browser: s.browser,
    os: s.os,
    kind: s.kind,
    rememberedDevice: s.rememberedDevice,
    current: s.current,
  };
}

// One way to call our webhooks (SMS, new-device notices): a JSON POST signed with HMAC-SHA256 over
// "<timestamp>.<body>" (headers X-Signin-Timestamp, X-Signin-Signature), so the receiver can reject
// forged and replayed requests; bounded by a timeout; anything but 2xx is an error.
import { createHmac } from "node:crypto";
import type { Clock } from "../core/clock.js";

const TIMEOUT_MS = 5000;

export async function postSigned(url: string, secret: string, clock: Clock, payload: object): Promise<void> {
  const body = JSON.stringify(payload);
  const timestamp = String(Math.floor(clock.now() / 1000));
  const signature = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-signin-timestamp": timestamp, "x-signin-signature": `sha256=${signature}` },
    body,
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
}

// The public keys other services verify our tokens with: the service's session keys and the
// RS256 keys of every app that is not deleted.
import type { JWK } from "jose";
import type { AppStore } from "../apps/app.js";
import type { AppKeys } from "./app-tokens.js";
import type { KeyRing } from "./key-ring.js";

export class Jwks {
  constructor(
    private readonly serviceKeys: KeyRing,
    private readonly appKeys: AppKeys,
    private readonly apps: AppStore,
  ) {}

  async keys(): Promise<{ keys: JWK[] }> {
    const apps = (await this.apps.list()).filter((a) => a.status !== "deleted");
    const rings = await Promise.all(apps.map((a) => this.appKeys.ring(a.id)));
    return { keys: [...this.serviceKeys.publicJwks(), ...rings.flatMap((r) => r.publicJwks())] };
  }
}

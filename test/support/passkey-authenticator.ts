// A software WebAuthn authenticator (P-256, "none" attestation) for core and REST tests: it answers
// creation and request options as a browser with a platform authenticator would, so the server's
// checks (challenge, origin, RP id, signature, counter) run for real without a browser.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";
import { isoCBOR } from "@simplewebauthn/server/helpers";

const b64u = (b: Uint8Array) => Buffer.from(b).toString("base64url");
const sha256 = (b: Uint8Array | string) => createHash("sha256").update(b).digest();

export interface SoftCredential {
  id: Uint8Array;
  privateKey: KeyObject;
  rpId: string;
  userHandle: string;
  counter: number;
}

export class SoftAuthenticator {
  readonly credentials: SoftCredential[] = [];
  /** Flags: user present (0x01), user verified (0x04). */
  userVerified = true;

  constructor(readonly origin: string) {}

  /** The RegistrationResponseJSON for creation options (JSON text or parsed). */
  create(options: any, reuse?: SoftCredential): any {
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = publicKey.export({ format: "jwk" });
    const cred: SoftCredential = { id: reuse?.id ?? randomBytes(16), privateKey, rpId: options.rp.id, userHandle: options.user.id, counter: 0 };
    this.credentials.push(cred);
    const cose = new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x!, "base64url")],
      [-3, Buffer.from(jwk.y!, "base64url")],
    ]);
    const attested = Buffer.concat([Buffer.alloc(16), u16(cred.id.length), cred.id, isoCBOR.encode(cose)]);
    const authData = Buffer.concat([sha256(cred.rpId), Buffer.from([this.flags() | 0x40]), u32(cred.counter), attested]);
    const clientDataJSON = this.clientData("webauthn.create", options.challenge);
    const attestationObject = isoCBOR.encode(new Map<string, unknown>([["fmt", "none"], ["attStmt", new Map()], ["authData", authData]]) as never);
    return {
      id: b64u(cred.id),
      rawId: b64u(cred.id),
      type: "public-key",
      clientExtensionResults: {},
      response: { clientDataJSON: b64u(clientDataJSON), attestationObject: b64u(attestationObject), transports: ["internal"] },
    };
  }

  /** The AuthenticationResponseJSON for request options; `counter` overrides the next counter (a clone's). */
  get(options: any, opts: { credential?: SoftCredential; counter?: number; origin?: string } = {}): any {
    const cred = opts.credential ?? this.credentials.find((c) => !options.allowCredentials?.length || options.allowCredentials.some((a: any) => a.id === b64u(c.id)))!;
    cred.counter = opts.counter ?? cred.counter + 1;
    const authData = Buffer.concat([sha256(cred.rpId), Buffer.from([this.flags()]), u32(cred.counter)]);
    const clientDataJSON = this.clientData("webauthn.get", options.challenge, opts.origin);
    const signature = sign("sha256", Buffer.concat([authData, sha256(clientDataJSON)]), cred.privateKey);
    return {
      id: b64u(cred.id),
      rawId: b64u(cred.id),
      type: "public-key",
      clientExtensionResults: {},
      response: { clientDataJSON: b64u(clientDataJSON), authenticatorData: b64u(authData), signature: b64u(signature), userHandle: cred.userHandle },
    };
  }

  private flags() {
    return 0x01 | (this.userVerified ? 0x04 : 0);
  }

  private clientData(type: string, challenge: string, origin = this.origin) {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }
}

function u16(n: number) {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function u32(n: number) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

// A passkey (WebAuthn credential) as stored: what verifying its assertions needs (public key,
// signature counter) and what its owner sees (name, when made and last used).
export interface Passkey {
  /** Our id (what list, rename and delete name). */
  id: string;
  accountId: string;
  /** The authenticator's credential id, base64url: unique across accounts. */
  credentialId: string;
  /** COSE public key. */
  publicKey: Uint8Array<ArrayBuffer>;
  /** The authenticator's signature counter last seen (0 = it keeps none). */
  counter: number;
  transports: string[];
  /** The authenticator model (all zeros when it does not say). */
  aaguid: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export type NewPasskey = Omit<Passkey, "lastUsedAt">;

/** How a counter update went: saved, or refused for not moving forward (a cloned authenticator). */
export type CounterUpdate = "saved" | "not_increasing" | "gone";

export interface PasskeyStore {
  list(accountId: string): Promise<Passkey[]>;
  findByCredentialId(credentialId: string): Promise<Passkey | null>;
  /** False when the credential id is registered already (to any account). */
  add(p: NewPasskey): Promise<boolean>;
  /** False when the account has no such passkey. */
  rename(accountId: string, id: string, name: string): Promise<boolean>;
  remove(accountId: string, id: string): Promise<boolean>;
  /** Every passkey of the account (an administrator's factor reset); how many there were. */
  removeAll(accountId: string): Promise<number>;
  /**
   * Saves a use, atomically: the counter only moves forward (a counter of 0 stays 0, for
   * authenticators that keep none); two concurrent uses of one counter value cannot both pass.
   */
  used(id: string, counter: number, at: Date): Promise<CounterUpdate>;
}

// At start, before anything reads a secret: values not sealed with the current master key
// (stored in clear before one was set, or sealed with SIGNIN_MASTER_KEY_PREVIOUS) are re-sealed
// with it; a value no configured key opens stops start-up with a message naming the setting.
import type { Logger } from "../logger.js";
import type { Sealer } from "./sealer.js";

/** Each kind of secret's re-sealing, returning how many values it re-sealed. */
export type Resealers = Record<string, () => Promise<number>>;

export async function resealAtStart(sealer: Sealer, resealers: Resealers, log: Logger, previousSet: boolean): Promise<void> {
  if (!sealer.sealing) {
    log.warn(
      { setting: "SIGNIN_MASTER_KEY" },
      "SIGNIN_MASTER_KEY is not set: TOTP secrets and private signing keys are stored IN CLEAR in the database. " +
        "Set SIGNIN_MASTER_KEY (32+ random characters) outside development; NODE_ENV=production refuses to start without it",
    );
  }
  const resealed: Record<string, number> = {};
  for (const [kind, reseal] of Object.entries(resealers)) resealed[kind] = await reseal();
  if (sealer.sealing && Object.values(resealed).some((n) => n > 0)) {
    log.info({ resealed, masterKeyId: sealer.keyId }, "secrets re-sealed with SIGNIN_MASTER_KEY");
  }
  if (previousSet) {
    log.info({ masterKeyId: sealer.keyId }, "every secret is sealed with SIGNIN_MASTER_KEY: remove SIGNIN_MASTER_KEY_PREVIOUS once every instance runs with this key");
  }
}

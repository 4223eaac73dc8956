// @simplewebauthn/server, loaded at the first passkey operation instead of at start: it was a third
// of the start-up's module loading (~0.34 s of ~0.9 s), and a process may never see a passkey.
let library: Promise<typeof import("@simplewebauthn/server")> | null = null;

export const webauthn = () => (library ??= import("@simplewebauthn/server"));

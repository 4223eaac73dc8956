// Every token the service signs with its own key (the JWKS publishes it) names its type twice:
// the JOSE header `typ` and the audience `aud`. Each verifier requires both, so no verifier (ours,
// or another service using the JWKS) can take a session token for an access token or the reverse.
// The Cosync `jwt` is signed with its app's own key, with aud = the app's Realm app id.

export interface TokenType {
  /** JOSE header `typ`. */
  typ: string;
  /** `aud`, derived from the issuer (TOKEN_ISSUER). */
  audience(issuer: string): string;
}

const under = (issuer: string, name: string) => `${issuer.replace(/\/+$/, "")}/${name}`;

/** Yeep-style session (and refresh) tokens. */
export const SESSION_TOKEN: TokenType = { typ: "session+jwt", audience: (issuer) => under(issuer, "session") };

/** Cosync-style access tokens: RFC 9068 JWT access tokens. */
export const ACCESS_TOKEN: TokenType = { typ: "at+jwt", audience: (issuer) => under(issuer, "access") };

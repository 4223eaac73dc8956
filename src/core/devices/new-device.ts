// "New sign-in to your account": a sign-in that presented no genuine device credential for its
// account is told to the product (e.g. to mail the owner). Audited by the sign-in flow; sent by
// an integration (integrations/notify/webhook.ts) that must never delay or fail the sign-in.

export interface NewDeviceSignIn {
  appId: string;
  accountId: string;
  /** Client IP as the limits group it. */
  ip: string;
  userAgent: string;
}

export interface NewDeviceNotifier {
  /** Fire and forget: returns at once, never throws; failures are the notifier's to log. */
  notify(signIn: NewDeviceSignIn): void;
}

/** Errors of the email module. They know nothing of HTTP; the API layer decides what a client sees. */
export class EmailError extends Error {
  override name = 'EmailError';
}

/** The email settings cannot work (bad SMTP URL, missing sender). Raised at boot, not per message. */
export class InvalidEmailConfigError extends EmailError {
  override name = 'InvalidEmailConfigError';
}

/** A message that must not be sent as is: a bad recipient, or a line break in a header. */
export class InvalidEmailMessageError extends EmailError {
  override name = 'InvalidEmailMessageError';
}

/**
 * The message could not be handed over (SMTP refused it, the server was unreachable, the outbox
 * could not be written). The message never contains the SMTP password, and the original error
 * is not attached as `cause` for SMTP failures because its fields are not ours to vouch for.
 */
export class EmailDeliveryError extends EmailError {
  override name = 'EmailDeliveryError';

  constructor(
    message: string,
    readonly details: {
      /** nodemailer's error code, e.g. `EAUTH`, `ECONNECTION`, `ETIMEDOUT`, `EENVELOPE`. */
      code?: string;
      /** The SMTP reply code, when the server answered. */
      responseCode?: number;
      /** True when retrying the same message cannot help (a 5xx reply, a bad login). */
      permanent: boolean;
    },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

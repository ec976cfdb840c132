import { AppError } from "../../shared/errors.ts";
import { xmlDocument, xmlElement, xmlText } from "../xml.ts";

export const STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/";

/** STS's error codes and statuses (the awsQuery error table of the STS API reference). */
const STATUS: Record<string, number> = {
  AccessDenied: 403,
  ExpiredToken: 400,
  IncompleteSignature: 400,
  InvalidAction: 400,
  InvalidClientTokenId: 403,
  InvalidParameterValue: 400,
  MalformedPolicyDocument: 400,
  MissingAuthenticationToken: 403,
  PackedPolicyTooLarge: 400,
  SignatureDoesNotMatch: 403,
  ValidationError: 400,
  InternalFailure: 500,
};

export class StsError extends AppError {
  constructor(code: string, message: string) {
    super(code, message, { status: STATUS[code] ?? 400, expose: true });
  }
}

/** `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`, as STS answers. */
export function renderStsError(error: unknown, requestId: string): { status: number; code: string; body: string } {
  const known = error instanceof AppError && error.expose && error.status < 500;
  const code = known ? error.code : "InternalFailure";
  const status = known ? (STATUS[code] ?? error.status) : 500;
  const message = known ? error.message : "An internal error occurred.";
  const body = xmlDocument(
    xmlElement(
      "ErrorResponse",
      xmlElement("Error", xmlText("Type", status >= 500 ? "Receiver" : "Sender"), xmlText("Code", code), xmlText("Message", message)),
      xmlText("RequestId", requestId),
    ),
    STS_XMLNS,
  );
  return { status, code, body };
}

// Amazon SES v2 simulator (SigV4 access keys, hub_key tags counted, SNS-signed events).
export { createSesSimulator, snsStringToSign } from "./server.js";
export type * from "./server.js";

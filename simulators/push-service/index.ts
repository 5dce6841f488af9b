// RFC 8030 push service simulator that checks VAPID and decrypts aes128gcm payloads.
export { createPushServiceSimulator, decryptAes128gcm } from "./server.js";
export type * from "./server.js";

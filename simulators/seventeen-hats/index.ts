// 17hats API simulator (contacts paged, account API key, per-account rate limit).
export { createSeventeenHatsSimulator, SEVENTEEN_HATS_MAX_PER_PAGE } from "./server.js";
export type * from "./server.js";
export { generateContact, generateContacts, type SeventeenHatsContact, type SeventeenHatsGenerateOptions } from "./generator.js";

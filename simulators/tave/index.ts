// Tave API v2 simulator (clients paged, API key, per-account rate limit).
export { createTaveSimulator, TAVE_DEFAULT_PER_PAGE, TAVE_MAX_PER_PAGE } from "./server.js";
export type * from "./server.js";
export { generateClient, generateClients, type GenerateOptions, type TaveRecord } from "./generator.js";

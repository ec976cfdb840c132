/** The root key pair every test store is started with. */
export const TEST_ACCESS_KEY_ID = "EARSHOTTESTKEY000001";
export const TEST_SECRET_ACCESS_KEY = "test-secret-key-0123456789abcdefghijklmn";

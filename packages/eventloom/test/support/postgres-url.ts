/** The server the Postgres tests use (the machine's, unless WORKFLOWS_TEST_POSTGRES names another). */
export const ADMIN_URL =
  process.env["WORKFLOWS_TEST_POSTGRES"] ?? "postgres://postgres@127.0.0.1:5432/postgres";

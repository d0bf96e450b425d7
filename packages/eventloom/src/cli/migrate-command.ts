import { createDefaultStore } from "../server/default-store.js";
import { CliError, firstLine } from "./cli-error.js";

/**
 * `eventloom migrate`: brings the schema of the store WORKFLOWS_DB names up to this release, then
 * exits, for operators who migrate before they deploy (the servers then start on a schema that is
 * already there; several starting at once is safe either way).
 */
export async function migrateCommand(env: NodeJS.ProcessEnv, stdout: (line: string) => void): Promise<void> {
  let store: Awaited<ReturnType<typeof createDefaultStore>>;
  try {
    store = await createDefaultStore(env);
  } catch (error) {
    throw new CliError(firstLine(error), { cause: error });
  }
  try {
    await store.init();
  } catch (error) {
    throw new CliError(`could not migrate the store: ${firstLine(error)}`, { cause: error });
  } finally {
    await store.close().catch(() => undefined);
  }
  stdout("eventloom: the store's schema is up to date");
}

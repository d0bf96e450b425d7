import { runStoreContract } from "../../src/stores/contract-suite.js";
import { MemoryStore } from "../../src/stores/index.js";

runStoreContract("memory", async () => {
  const store = new MemoryStore();
  await store.init();
  return { store, cleanup: () => store.close() };
});

import { MemoryStore } from "../../src/stores/index.js";
import { runStoreContract } from "../../src/testing/store-contract/index.js";

runStoreContract("memory", async () => {
  const store = new MemoryStore();
  await store.init();
  return { store, cleanup: () => store.close() };
});

// The tests' FakeClock is the one `eventloom/testing` gives users.
export { FakeClock, settle } from "../../src/testing/fake-clock.js";

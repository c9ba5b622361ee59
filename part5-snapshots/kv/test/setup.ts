// The core's check around every test (part5-snapshots/test/setup.ts): no real handle left open
// by the store's code or the core's.
import "part5-snapshots/test/setup";

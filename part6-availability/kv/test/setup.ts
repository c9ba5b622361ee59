// The core's check around every test (part6-availability/test/setup.ts): no real handle left open
// by the store's code or the core's.
import "part6-availability/test/setup";

// The commands that replay a test: the core's (part5-snapshots/test/replay.ts), which name the
// package that holds the test file.
export * from "part5-snapshots/test/replay";

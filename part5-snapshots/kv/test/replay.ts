// The commands that replay a test: part 3's (part5-snapshots/test/replay.ts), which name the
// package that holds the test file.
export * from "part5-snapshots/test/replay";

// The commands that replay a test: the core's (part6-availability/test/replay.ts), which name the
// package that holds the test file.
export * from "part6-availability/test/replay";

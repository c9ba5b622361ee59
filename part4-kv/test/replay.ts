// The commands that replay a test: part 3's (part3-persistence/test/replay.ts), which name the
// package that holds the test file.
export * from "part3-persistence/test/replay";

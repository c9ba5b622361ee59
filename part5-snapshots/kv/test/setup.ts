// Part 3's check around every test (part5-snapshots/test/setup.ts): no real handle left open
// by this part's code or part 3's.
import "part5-snapshots/test/setup";

// Part 3's check around every test (part3-persistence/test/setup.ts): no real handle left open
// by this part's code or part 3's.
import "part3-persistence/test/setup";

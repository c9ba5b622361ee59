// Growing typed arrays, for the search's tables (memo.ts, states.ts), which start small and double.

export type Growable = Int32Array | Uint32Array | Uint8Array;

/**
 * A typed array twice as long, starting with the same contents, the rest `fill`. The search keeps
 * its growing tables in typed arrays: no per-entry objects, and nothing for the collector to scan.
 */
export function doubled<T extends Growable>(array: T, fill = 0): T {
  const bigger = new (array.constructor as new (length: number) => T)(array.length * 2);
  bigger.set(array);
  if (fill !== 0) bigger.fill(fill, array.length);
  return bigger;
}

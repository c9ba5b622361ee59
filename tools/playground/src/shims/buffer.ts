// Buffer for the browser bundle: the parts' network and part 4's commands count a message's bytes
// with Buffer.byteLength, which is its UTF-8 length (lone surrogates become U+FFFD, 3 bytes, in
// both). Injected by esbuild in place of the free identifier.

const encoder = new TextEncoder();

export const Buffer = {
  byteLength(text: string): number {
    return encoder.encode(text).length;
  },
};
